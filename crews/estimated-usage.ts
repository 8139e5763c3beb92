// Shared by the examples' scripted authors (crews/*/author.ts), which write their cassettes.
import type { ModelRequest } from 'troupe';
import type { ScriptedReply } from 'troupe/testing';

/**
 * Token counts as a real model would report them, roughly (4 characters a token), so the usage
 * and cost per agent in a recorded transcript mean something.
 */
export function withUsage(request: ModelRequest, reply: ScriptedReply): ScriptedReply {
  if (typeof reply === 'string') return reply;
  const input = (request.system?.length ?? 0) + JSON.stringify(request.messages).length + JSON.stringify(request.tools ?? []).length;
  const output = (reply.text?.length ?? 0) + JSON.stringify(reply.toolCalls ?? []).length;
  return { ...reply, usage: { inputTokens: Math.ceil(input / 4), outputTokens: Math.ceil(output / 4) } };
}
