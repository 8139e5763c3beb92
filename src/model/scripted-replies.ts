import { resolve } from 'node:path';
import { z } from 'zod';
import { DefinitionFile } from '../core/definition-file.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import { DefinitionFileError, type FileIssue } from '../core/errors/definition-file-error.js';
import { lazy } from '../core/lazy.js';
import type { ModelCallOptions, ModelClient, ModelRequest, ModelResponse, TextPart, ToolCallPart } from './model-client.js';
import { fileStamp } from './file-stamp.js';

/**
 * One reply of a replies file: a text, a tool call (`{ tool, input }`), or a finish (`{ finish }`,
 * the agent's result; `tool` names the finish tool when the agent's is not called `finish`). Each
 * may carry a `text` said before the call.
 */
export type ScriptedFileReply =
  | { kind: 'text'; text: string }
  | { kind: 'tool'; text?: string; tool: string; input: Record<string, unknown> }
  | { kind: 'finish'; text?: string; tool?: string; value: unknown };

/** A parsed replies file: each agent's replies, in the order the agent gets them. */
export interface ScriptedReplies {
  file: string;
  agents: ReadonlyMap<string, readonly ScriptedFileReply[]>;
}

/** Whether the part after `scripted:` is a replies file rather than a registered name. */
export function isRepliesFile(name: string): boolean {
  return /\.(ya?ml|json)$/i.test(name);
}

const buildSchemas = () => ({
  top: z.record(
    z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'an agent name: 1 to 64 letters, digits, "_" or "-"'),
    z.array(z.unknown()).min(1, 'give the agent at least one reply'),
  ),
  text: z.object({ text: z.string() }).strict(),
  tool: z.object({ text: z.string().optional(), tool: z.string().min(1), input: z.record(z.string(), z.unknown()).default({}) }).strict(),
  finish: z.object({ text: z.string().optional(), tool: z.string().min(1).optional(), finish: z.unknown() }).strict(),
});

const schemas = lazy(buildSchemas);

/**
 * Reads a replies file (YAML, or JSON for `.json`): a mapping from agent name to that agent's
 * replies. Every problem is reported at once, with its line and field.
 */
export function readScriptedReplies(path: string): ScriptedReplies {
  const file = DefinitionFile.read(path, { what: 'replies file' });
  if (file.data === null || typeof file.data !== 'object' || Array.isArray(file.data))
    throw file.error([], 'a replies file maps each agent\'s name to its list of replies, e.g. "code_assistant: [ { finish: done } ]"');
  const top = file.validate(schemas().top, 'replies');
  const issues: FileIssue[] = [];
  const agents = new Map<string, ScriptedFileReply[]>();
  for (const [agent, replies] of Object.entries(top)) {
    agents.set(
      agent,
      replies.flatMap((reply, index) => {
        const parsed = parseReply(file, reply, [agent, index], issues);
        return parsed ? [parsed] : [];
      }),
    );
  }
  if (issues.length > 0) throw new DefinitionFileError(issues);
  return { file: path, agents };
}

const replyForms = 'a reply is a text, a tool call { tool, input } or a finish { finish: <result> }';

function parseReply(file: DefinitionFile, reply: unknown, at: PropertyKey[], issues: FileIssue[]): ScriptedFileReply | undefined {
  if (typeof reply === 'string') return { kind: 'text', text: reply };
  if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) {
    issues.push(file.issue(at, replyForms));
    return undefined;
  }
  if ('finish' in reply) {
    const parsed = file.check(schemas().finish, reply, at, issues);
    if (!parsed) return undefined;
    const { text, tool, finish } = parsed.value;
    return { kind: 'finish', value: finish, ...(text === undefined ? {} : { text }), ...(tool === undefined ? {} : { tool }) };
  }
  if ('tool' in reply) {
    const parsed = file.check(schemas().tool, reply, at, issues);
    if (!parsed) return undefined;
    const { text, tool, input } = parsed.value;
    return { kind: 'tool', tool, input, ...(text === undefined ? {} : { text }) };
  }
  if (!('text' in reply)) {
    const fields = Object.keys(reply).map((key) => `"${key}"`);
    issues.push(file.issue(at, `${replyForms}, not an object with ${fields.length ? fields.join(', ') : 'no fields'}`));
    return undefined;
  }
  const parsed = file.check(schemas().text, reply, at, issues);
  return parsed ? { kind: 'text', text: parsed.value.text } : undefined;
}

/**
 * A model that answers from a replies file, so a role or crew can be tried and tested without a
 * key or code (`--model scripted:replies.yaml`). Each agent gets its own replies in order: the
 * agent is known from the call's `caller` (the Agent passes its name; a workflow model step its
 * task's). Replies are counted per run, so an agent run several times in one crew run (the rounds
 * of a two-agent crew) goes on where it stopped, and a new run starts from the first reply.
 * A finish's result is sent as the finish tool's arguments; a result that is not an object is
 * wrapped as `{ result }`, as Agent wraps such finish tools.
 */
export class ScriptedRepliesModel implements ModelClient {
  readonly id: string;
  readonly #script: ScriptedReplies;
  readonly #positions = new Map<string, number>();

  constructor(script: ScriptedReplies) {
    this.#script = script;
    this.id = `scripted:${script.file}`;
  }

  async generate(request: ModelRequest, options?: ModelCallOptions): Promise<ModelResponse> {
    options?.signal?.throwIfAborted();
    const agent = this.#agentOf(options);
    const replies = this.#script.agents.get(agent)!;
    const key = `${options?.caller?.runId ?? ''}\u0000${agent}`;
    const index = this.#positions.get(key) ?? 0;
    const reply = replies[index];
    if (reply === undefined)
      throw new ConfigurationError(
        `agent "${agent}" asked the model for reply ${index + 1}, but the replies file has ${replies.length} for it: add replies (a finish ends the agent's work)`,
        { file: this.#script.file, field: agent },
      );
    this.#positions.set(key, index + 1);
    return this.#response(reply, request, agent, index);
  }

  #agentOf(options: ModelCallOptions | undefined): string {
    const known = [...this.#script.agents.keys()];
    const agent = options?.caller?.agent;
    if (agent === undefined) {
      // A client called directly, outside any agent: only a file for one agent can answer it.
      if (known.length === 1) return known[0]!;
      throw new ConfigurationError(`a call that names no agent cannot choose among the agents of the replies file (${known.join(', ')})`, {
        file: this.#script.file,
      });
    }
    if (this.#script.agents.has(agent)) return agent;
    throw new ConfigurationError(`agent "${agent}" asked the model, but the replies file has no replies for it (it has: ${known.join(', ')})`, {
      file: this.#script.file,
      field: agent,
    });
  }

  #response(reply: ScriptedFileReply, request: ModelRequest, agent: string, index: number): ModelResponse {
    const content: Array<TextPart | ToolCallPart> = [];
    if (reply.text) content.push({ type: 'text', text: reply.text });
    const id = `call_${agent}_${index + 1}`;
    if (reply.kind === 'tool') content.push({ type: 'tool-call', id, name: reply.tool, input: reply.input });
    if (reply.kind === 'finish') {
      const name = reply.tool ?? this.#finishTool(request, agent, index);
      const input = reply.value !== null && typeof reply.value === 'object' && !Array.isArray(reply.value) ? reply.value : { result: reply.value };
      content.push({ type: 'tool-call', id, name, input });
    }
    const text = reply.text ?? '';
    return {
      content,
      stopReason: reply.kind === 'text' ? 'end-turn' : 'tool-calls',
      // No tokenizer: a fixed small input count and ~4 characters per output token keep budgets meaningful.
      usage: { inputTokens: 10, outputTokens: Math.max(1, Math.ceil((text.length + JSON.stringify(content).length) / 4)) },
      model: this.id,
    };
  }

  #finishTool(request: ModelRequest, agent: string, index: number): string {
    const offered = (request.tools ?? []).map((tool) => tool.name);
    if (offered.includes('finish')) return 'finish';
    throw new ConfigurationError(
      `reply ${index + 1} of agent "${agent}" finishes, but the agent has no tool named "finish": name its finish tool with "tool:" beside "finish:" (the agent's tools: ${offered.join(', ') || 'none'})`,
      { file: this.#script.file, field: `${agent}.${index}` },
    );
  }
}

// One model per file (re-read when the file changes), so every agent of a run that resolves
// `scripted:<file>` on its own shares the position of each agent's replies.
const models = new Map<string, { stamp: string; model: ScriptedRepliesModel }>();

/** The model of a replies file (`scripted:<file>`); the file is read and checked now, so its problems come before any run. */
export function scriptedRepliesModel(path: string): ScriptedRepliesModel {
  const absolute = resolve(path);
  const stamp = fileStamp(absolute);
  const known = models.get(absolute);
  if (known && stamp !== undefined && known.stamp === stamp) return known.model;
  const model = new ScriptedRepliesModel(readScriptedReplies(path));
  if (stamp !== undefined) models.set(absolute, { stamp, model });
  return model;
}
