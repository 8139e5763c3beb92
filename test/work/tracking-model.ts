import type { ModelRequest } from '../../src/model/model-client.js';
import { scriptedModel, type ScriptedModel, type ScriptedReply } from '../../src/model/scripted.js';

// The scripted model of the work tests. No vitest import here: worker processes load it too.

/** The item an agent owns, read from its system message. */
export function itemOf(request: ModelRequest): string {
  return /You own the work item "([^"]+)"/.exec(request.system ?? '')?.[1] ?? '?';
}

/** The fenced blocks of a prompt, in order (new content of the source, then the own item, for a notification). */
export function blocksOf(prompt: string): string[] {
  return [...prompt.matchAll(/```\n([\s\S]*?)\n```\n/g)].map((match) => match[1]!);
}

export function lastPrompt(request: ModelRequest): string {
  const last = [...request.messages].reverse().find((message) => message.role === 'user');
  return last && typeof last.content === 'string' ? last.content : '';
}

/** What a notification prompt says changed: `"source", ... changed to version n`. */
export function changeOf(prompt: string): { source: string; version: number } | undefined {
  const match = /^"([^"]+)", which your item depends on, changed to version (\d+)/.exec(prompt);
  return match ? { source: match[1]!, version: Number(match[2]) } : undefined;
}

export const update = (content: string, summary: string): ScriptedReply => ({ toolCalls: [{ name: 'update_item', input: { content, summary } }] });
export const noChange = (reason: string): ScriptedReply => ({ toolCalls: [{ name: 'no_change', input: { reason } }] });

/**
 * The test model for every item's agent. A person's "set <text>" sets the item to <text>; a
 * dependent records, in its content (JSON), the version of each dependency it was told about, so
 * at quiet every dependent can be checked against its dependencies' versions.
 */
export function trackingModel(options: { latencyMs?: number; onCall?: (item: string) => void } = {}): ScriptedModel {
  return scriptedModel(
    (request) => {
      const item = itemOf(request);
      options.onCall?.(item);
      const prompt = lastPrompt(request);
      if (prompt.startsWith('A person asks')) {
        const set = /\nset (.*)\n/.exec(prompt);
        return set ? update(set[1]!, `set to ${set[1]}`) : noChange(`${item} is fine as it is`);
      }
      const change = changeOf(prompt);
      if (!change) return noChange('nothing to do');
      const own = blocksOf(prompt).at(-1) ?? '';
      const seen = (own.startsWith('{') ? JSON.parse(own) : {}) as Record<string, number>;
      if ((seen[change.source] ?? 0) >= change.version) return noChange(`already saw ${change.source} v${change.version}`);
      seen[change.source] = change.version;
      const sorted = Object.fromEntries(Object.entries(seen).sort(([a], [b]) => a.localeCompare(b)));
      return update(JSON.stringify(sorted), `follows ${change.source} v${change.version}`);
    },
    { id: 'scripted:work-test', ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}) },
  );
}
