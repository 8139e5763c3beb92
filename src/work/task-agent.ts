import { z } from 'zod';
import { agentWithExits, type Agent, type ExitResult } from '../agent/agent.js';
import type { AgentRunOptions } from '../agent/agent.js';
import { maxTurns } from '../agent/termination.js';
import type { Message, ModelClient } from '../model/model-client.js';
import { fanOutTrace } from '../observe/trace-event.js';
import type { StateStore } from '../store/state-store.js';
import { recordRun } from '../workflow/run-record.js';
import type { WorkItemDefinition } from './work-graph-definition.js';
import type { ConversationTurn, ItemDecision, ItemNotification, WorkItem } from './work-item.js';

const exits = {
  update_item: {
    description: "Replace your item's content. Give the whole new content, not a patch, and a one-line summary of the change.",
    output: z.object({
      content: z.string().describe("the item's whole new content"),
      summary: z.string().min(1).describe('what changed and why, in one line'),
    }),
  },
  no_change: {
    description: 'Leave your item as it is, and say why (for a question from a person: your answer).',
    output: z.object({ reason: z.string().min(1).describe('why no change is needed, or the answer to a question') }),
  },
};

/**
 * The agent of a work item: its result is the exit it took, `update_item` or `no_change`, with that exit's output.
 *
 * @useDeclaredType
 */
export type TaskAgent = Agent<ExitResult<typeof exits>>;

/**
 * The agent that owns one work item. It has the item's own tools and two exits, `update_item`
 * and `no_change`, so every run ends in a decision code can apply. Its conversation is not kept
 * here: the graph stores it with the item and passes it as `history`, so any worker can serve it.
 */
export function taskAgent(graphName: string, item: WorkItemDefinition, dependsOn: readonly string[], model: string | ModelClient | undefined): TaskAgent {
  const duty =
    `You own the work item "${item.id}"${item.description ? ` (${item.description})` : ''} in the work graph "${graphName}". ` +
    (dependsOn.length > 0
      ? `It depends on: ${dependsOn.join(', ')}. When one of them changes you are told, and you decide whether your item must change to stay consistent with it. `
      : '') +
    'A person may also ask you for a change or a question about your item. Change only your own item; the owners of the other items decide about theirs.';
  const persona = item.instructions
    ? { instructions: `${item.instructions.trim()}\n\n${duty}` }
    : {
        role: item.role ?? `the owner of ${item.id}`,
        ...(item.goal ? { goal: item.goal } : {}),
        backstory: [item.backstory, duty].filter(Boolean).join('\n\n'),
      };
  return agentWithExits({
    name: agentName(item.id),
    description: item.description ?? `owns ${item.id}`,
    ...persona,
    tools: item.tools ?? [],
    ...(model !== undefined ? { model } : {}),
    exits,
    termination: maxTurns(12),
  });
}

/** Agent names travel to providers that accept only letters, digits, '_' and '-'. */
function agentName(itemId: string): string {
  return `item_${itemId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** What a dependent's agent is shown: the change of the item it depends on, and its own item. */
export function notificationPrompt(notification: ItemNotification, item: WorkItem): string {
  const change = notification.diff !== undefined && notification.diff !== '' ? `The change, as a line diff:\n${fence(notification.diff)}\n` : '';
  return (
    `"${notification.source}", which your item depends on, changed to version ${notification.sourceVersion}: ${notification.summary}\n\n` +
    change +
    `Its new content:\n${fence(notification.content)}\n` +
    `Your item "${item.id}" (version ${item.version}) is now:\n${fence(item.content)}\n` +
    'Must your item change to stay consistent? Call update_item with its whole new content and a summary, or no_change with the reason.'
  );
}

/** What an item's agent is shown when a person talks to it. */
export function chatPrompt(message: string, item: WorkItem): string {
  return (
    `A person asks about your item "${item.id}":\n${message}\n\n` +
    `Your item (version ${item.version}) is now:\n${fence(item.content)}\n` +
    'If they ask for a change, call update_item with the whole new content and a summary (the summary is your answer to them). ' +
    'Otherwise call no_change with your answer as the reason.'
  );
}

function fence(text: string): string {
  const ticks = text.includes('```') ? '~~~~' : '```';
  return `${ticks}\n${text}\n${ticks}\n`;
}

/** The messages of the last `keep` turns, oldest first: a turn starts with a user message, so the history stays well formed. */
export function historyOf(turns: readonly ConversationTurn[], keep: number): Message[] {
  return keep <= 0 ? [] : turns.slice(-keep).flatMap((turn) => turn.messages);
}

/** Runs the agent on a prompt and turns its exit into a decision; a run that stops without one decides nothing. */
export async function decide(
  agent: TaskAgent,
  prompt: string,
  history: Message[],
  options: AgentRunOptions,
  record?: { store: StateStore; name: string },
): Promise<{ decision: ItemDecision; messages: Message[] }> {
  // Each run of an item's agent is recorded as a work-item run (troupe runs list, the dashboard); recording never fails it.
  const recorder = record ? recordRun(record.store, { kind: 'work-item', name: record.name, input: prompt }) : undefined;
  let result: Awaited<ReturnType<TaskAgent['run']>>;
  try {
    result = await agent.run(prompt, recorder ? { ...options, history, trace: fanOutTrace(options.trace, recorder.trace) } : { ...options, history });
  } catch (error) {
    await recorder?.finish({ status: 'failed', stopReason: (error as Error).message });
    throw error;
  }
  await recorder?.finish({
    status: result.status === 'finished' ? 'finished' : result.status === 'stopped' ? 'stopped' : 'failed',
    stopReason: result.stop.reason,
  });
  const messages = result.transcript.slice(history.length);
  if (result.status !== 'finished') return { decision: { kind: 'no-change', reason: `the agent stopped without deciding: ${result.stop.reason}` }, messages };
  const output = result.output;
  const decision: ItemDecision =
    output.exit === 'update_item'
      ? { kind: 'update', content: output.value.content, summary: output.value.summary }
      : { kind: 'no-change', reason: output.value.reason };
  return { decision, messages };
}
