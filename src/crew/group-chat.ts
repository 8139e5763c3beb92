import { z } from 'zod';
import { Agent, type ExitTool } from '../agent/agent.js';
import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { ModelClient } from '../model/model-client.js';
import type { Crew, CrewRunOptions } from './crew.js';
import { CrewContext } from './crew-context.js';
import type { CrewResult, CrewStop } from './crew-result.js';
import { membersByName } from './sequential.js';

/** One message posted to the group. */
export interface ChatMessage {
  round: number;
  speaker: string;
  message: string;
}

/** What a speaker selector function is given before each round. */
export interface SpeakerSelectionState {
  /** The round about to be played, from 1. */
  round: number;
  messages: readonly ChatMessage[];
  lastSpeaker: string | undefined;
  /** Who may speak now (the allowed successors of the last speaker). The function must return one of them. */
  candidates: readonly string[];
  members: ReadonlyArray<{ name: string; description: string }>;
  input: string | undefined;
}

export type SpeakerSelector = (state: SpeakerSelectionState) => string | Promise<string>;

/**
 * A manager made for the chat: its name (default `manager`), model (default: the run's) and instructions (its persona, before the chat's own).
 *
 * @inline
 */
export interface ManagerSpec {
  name?: string;
  model?: string | ModelClient;
  instructions?: string;
}

/**
 * How the next speaker is chosen: in member order, by a manager model reading the members'
 * descriptions (an Agent keeps its persona; a model string or client gets a plain manager; a
 * spec gets the persona it describes), or by code.
 */
export type SpeakerSelection = 'round-robin' | { manager: Agent<any> | string | ModelClient | ManagerSpec } | SpeakerSelector;

export interface GroupChatOptions<Output> {
  name: string;
  agents: readonly Agent<any>[];
  /** The schema of the crew's result, passed by a finisher's `finish` call. Default: a string. */
  output?: z.ZodType<Output>;
  /** Default `'round-robin'`: deterministic and costs no model call. */
  selector?: SpeakerSelection;
  /**
   * After speaker X only the listed members may speak (X itself only if listed). Members not named
   * as a key may be followed by anyone else. A member with no successor must be a finisher: its
   * turn then offers only `finish`.
   */
  allowedTransitions?: Readonly<Record<string, readonly string[]>>;
  /** Turns before the chat stops with condition `max-rounds` (default 20). */
  maxRounds?: number;
  /** Who may end the chat with the output (default: every member). */
  finishers?: readonly string[];
  /**
   * Consecutive messages that repeat an earlier one or are only pleasantries ("thanks", "bye",
   * "TERMINATE") before the chat stops with condition `no-progress`. Default: the number of members, at least 2.
   */
  noProgressWindow?: number;
  /** Who speaks in round 1, without asking the selector. */
  firstSpeaker?: string;
  /**
   * The manager (a manager selector only) may end the chat itself: before each round it either
   * names the next speaker or calls `finish` with the output. Then `finishers` defaults to none,
   * so the chat ends when the manager judges the work done.
   */
  managerFinishes?: boolean;
}

/** The shared conversation comes with the result; the per-agent transcripts hold each model exchange. */
export type GroupChatResult<Output> = CrewResult<Output> & { conversation: ChatMessage[] };

export interface GroupChat<Output> extends Crew<Output> {
  run(input?: string, options?: CrewRunOptions): Promise<GroupChatResult<Output>>;
}

type Turn<Output> = { exit: 'say'; value: { message: string } } | { exit: 'finish'; value: Output };
type Selection<Output> = { exit: 'select_speaker'; value: { speaker: string; reason: string } } | { exit: 'finish'; value: Output };
type Choice<Output> = { speaker: string; method: string; reason?: string } | { stop: CrewStop } | { finish: Output };

const sayInput = z.object({ message: z.string().min(1).describe('What you say to the group.') });

/**
 * Agents share one conversation, one speaker per round (AutoGen's GroupChat). Every turn ends with
 * a tool call: `say` posts a message, `finish` (finishers only) ends the chat with the validated
 * output. Code bounds the chat: `maxRounds`, the run's signal, and a no-progress detector for
 * chats that trade goodbyes or repeat themselves.
 */
export function groupChatCrew<Output = string>(options: GroupChatOptions<Output>): GroupChat<Output> {
  const crew = options.name;
  const members = membersByName(crew, options.agents);
  const names = [...members.keys()];
  const roster = names.map((name) => ({ name, description: members.get(name)!.description }));
  const output = options.output ?? (z.string() as unknown as z.ZodType<Output>);
  const selection = options.selector ?? 'round-robin';
  const managerFinishes = options.managerFinishes ?? false;
  if (managerFinishes && typeof selection !== 'object')
    throw new ConfigurationError(`Group chat "${crew}": only a manager can finish the chat (managerFinishes needs selector: { manager }).`, {
      field: 'managerFinishes',
    });
  const finishers = new Set(checkNames(crew, 'finishers', options.finishers ?? (managerFinishes ? [] : names), members));
  if (finishers.size === 0 && !managerFinishes)
    throw new ConfigurationError(`Group chat "${crew}" has no finishers: nobody could end it with its output.`, { field: 'finishers' });
  if (options.firstSpeaker !== undefined) checkNames(crew, 'firstSpeaker', [options.firstSpeaker], members);
  const transitions = checkTransitions(crew, options.allowedTransitions ?? {}, members, finishers);
  const maxRounds = positiveInteger(crew, 'maxRounds', options.maxRounds ?? 20);
  const window = positiveInteger(crew, 'noProgressWindow', options.noProgressWindow ?? Math.max(2, names.length));

  const candidatesAfter = (last: string | undefined): string[] => {
    if (last === undefined) return names;
    const allowed = transitions.get(last);
    if (allowed) return allowed;
    return names.length > 1 ? names.filter((name) => name !== last) : names;
  };
  const turnAgents = new Map(names.map((name) => [name, turnAgent(members.get(name)!, finishers.has(name), candidatesAfter(name).length > 0, output)]));
  if (typeof selection === 'object' && isManagerSpec(selection.manager) && members.has(selection.manager.name ?? 'manager'))
    throw new ConfigurationError(`The manager of group chat "${crew}" is named "${selection.manager.name ?? 'manager'}", like one of its members.`, {
      field: 'selector.manager.name',
    });
  const managerName =
    typeof selection !== 'object'
      ? 'manager'
      : selection.manager instanceof Agent
        ? selection.manager.name
        : isManagerSpec(selection.manager)
          ? (selection.manager.name ?? 'manager')
          : 'manager';
  const managerFor = typeof selection === 'object' ? managerAgents<Output>(selection.manager, managerFinishes ? output : undefined) : undefined;
  const noProgress = progressJudge(names);

  async function choose(
    context: CrewContext,
    round: number,
    last: string | undefined,
    messages: ChatMessage[],
    input: string | undefined,
  ): Promise<Choice<Output>> {
    if (round === 1 && options.firstSpeaker !== undefined) return { speaker: options.firstSpeaker, method: 'first speaker' };
    const candidates = candidatesAfter(last);
    if (selection === 'round-robin') return { speaker: nextInOrder(names, last, candidates), method: 'round-robin' };
    if (typeof selection === 'function') {
      const speaker = await selection({ round, messages: [...messages], lastSpeaker: last, candidates, members: roster, input });
      if (!members.has(speaker)) {
        throw new ConfigurationError(
          `The speaker selector of group chat "${crew}" returned "${speaker}", who is not a member (members: ${names.join(', ')}).`,
          { field: 'selector' },
        );
      }
      if (!candidates.includes(speaker)) {
        throw new ConfigurationError(
          `The speaker selector of group chat "${crew}" returned "${speaker}", who may not speak after "${last}" (allowed: ${candidates.join(', ')}).`,
          { field: 'selector' },
        );
      }
      return { speaker, method: 'function' };
    }
    // A choice of one is no choice: no model call (unless the manager may end the chat instead).
    if (candidates.length === 1 && !managerFinishes) return { speaker: candidates[0]!, method: 'only candidate' };
    const outcome = await context.runMember(managerFor!(candidates), managerPrompt(crew, roster, input, messages, candidates, managerFinishes));
    if (outcome.status === 'finished') {
      const picked = outcome.output;
      if (picked.exit === 'finish') return { finish: picked.value };
      return { speaker: picked.value.speaker, method: 'manager', reason: picked.value.reason };
    }
    if (outcome.status === 'stopped' && outcome.condition === 'abort-signal') {
      return {
        stop: {
          kind: 'stopped',
          condition: 'abort-signal',
          reason: `choosing the speaker of round ${round}: ${outcome.reason}`,
          detail: { round, ...outcome.detail },
        },
      };
    }
    // A manager that cannot name a valid speaker must not end the chat; the order of members is a safe default.
    return {
      speaker: nextInOrder(names, last, candidates),
      method: 'round-robin (manager failed)',
      reason: `the manager ${outcome.status}: ${outcome.reason}`,
    };
  }

  return {
    name: crew,
    process: 'group-chat',
    async run(input?: string, runOptions: CrewRunOptions = {}): Promise<GroupChatResult<Output>> {
      const context = new CrewContext(crew, 'group-chat', runOptions);
      const conversation: ChatMessage[] = [];
      const end = (stop: CrewStop, value?: Output): GroupChatResult<Output> => ({ ...context.finish(stop, value), conversation });
      const progress = noProgress();
      let last: string | undefined;

      for (let round = 1; round <= maxRounds; round++) {
        if (runOptions.signal?.aborted) {
          return end({ kind: 'stopped', condition: 'abort-signal', reason: `aborted by the caller before round ${round}`, detail: { round } });
        }
        const choice = await choose(context, round, last, conversation, input);
        if ('stop' in choice) return end(choice.stop);
        if ('finish' in choice) return end({ kind: 'finish', reason: `${managerName} (the manager) ended the chat after ${round - 1} rounds` }, choice.finish);
        const { speaker } = choice;
        context.emit({
          type: 'speaker-select',
          crew,
          speaker,
          method: choice.method,
          round,
          ...(choice.reason === undefined ? {} : { reason: choice.reason }),
        });

        const task = `turn-${round}`;
        const started = context.clock.now();
        context.emit({ type: 'task-start', crew, task, agent: speaker });
        const prompt = turnPrompt(crew, roster, input, conversation, speaker, finishers, candidatesAfter(speaker).length > 0, managerFinishes);
        const outcome = await context.runMember(turnAgents.get(speaker)!, prompt);
        const said = outcome.status === 'finished' ? (outcome.output.exit === 'say' ? outcome.output.value.message : outcome.output.value) : undefined;
        context.recorder.task({ task, agent: speaker, status: outcome.status, output: said, reason: outcome.reason });
        context.emit({
          type: 'task-end',
          crew,
          task,
          agent: speaker,
          status: outcome.status,
          durationMs: context.clock.now() - started,
          reason: outcome.reason,
        });

        if (outcome.status !== 'finished') {
          return end({
            kind: outcome.status,
            condition: outcome.condition,
            reason: `round ${round} (${speaker}) ${outcome.status}: ${outcome.reason}`,
            detail: { round, agent: speaker, ...outcome.detail },
          });
        }
        const turn = outcome.output;
        if (turn.exit === 'finish') return end({ kind: 'finish', reason: `${speaker} ended the chat in round ${round}` }, turn.value);

        const message: ChatMessage = { round, speaker, message: turn.value.message };
        conversation.push(message);
        last = speaker;
        const stalled = progress(message);
        if (stalled.length >= window) {
          return end({
            kind: 'stopped',
            condition: 'no-progress',
            reason: `the last ${stalled.length} messages made no progress (repeats or only pleasantries)`,
            detail: { window, round, messages: stalled },
          });
        }
      }
      return end({
        kind: 'stopped',
        condition: 'max-rounds',
        reason: `reached the limit of ${maxRounds} rounds without a finish call`,
        detail: { limit: maxRounds, rounds: maxRounds, messages: conversation.length },
      });
    },
  };
}

function turnAgent<Output>(member: Agent<any>, canFinish: boolean, canSay: boolean, output: z.ZodType<Output>): Agent<Turn<Output>> {
  const exits: Record<string, ExitTool> = {};
  if (canSay) exits.say = { description: 'Posts your message to the group chat and ends your turn.', output: sayInput };
  if (canFinish) exits.finish = { description: "Ends the whole group chat with the group's final result. Only when the work is done.", output };
  return member.with<Turn<Output>>({ exits });
}

/**
 * One manager agent per set of candidates (the enum of its exit differs), built on first use.
 * Given the crew's output schema, the manager may also end the chat with `finish`.
 */
function managerAgents<Output>(
  manager: Agent<any> | string | ModelClient | ManagerSpec,
  finishOutput: z.ZodType<Output> | undefined,
): (candidates: readonly string[]) => Agent<Selection<Output>> {
  const built = new Map<string, Agent<Selection<Output>>>();
  return (candidates) => {
    const key = candidates.join('\n');
    let agent = built.get(key);
    if (!agent) {
      const exits: Record<string, ExitTool> = {
        select_speaker: {
          description: 'Names the member who speaks next.',
          output: z.object({
            speaker: z.enum(candidates as [string, ...string[]]).describe('The name of the member who speaks next.'),
            reason: z.string().describe('Why this member, in one sentence.'),
          }),
        },
      };
      if (finishOutput)
        exits.finish = { description: "Ends the group chat with the group's final result, when the members' work is done.", output: finishOutput };
      const coordinate = 'You coordinate a group chat. Read the conversation and choose the member whose role best fits what must happen next.';
      const spec: ManagerSpec = manager instanceof Agent ? {} : isManagerSpec(manager) ? manager : { model: manager };
      agent =
        manager instanceof Agent
          ? manager.with<Selection<Output>>({ exits })
          : new Agent<Selection<Output>>({
              name: spec.name ?? 'manager',
              description: 'Chooses who speaks next in a group chat.',
              instructions: spec.instructions ? `${spec.instructions.trim()}\n\n${coordinate}` : coordinate,
              ...(spec.model === undefined ? {} : { model: spec.model }),
              exits,
            });
      built.set(key, agent);
    }
    return agent;
  };
}

/** A manager described by its parts, not a model (a string or a client with `generate`) or an Agent. */
function isManagerSpec(manager: Agent<any> | string | ModelClient | ManagerSpec): manager is ManagerSpec {
  return typeof manager === 'object' && !(manager instanceof Agent) && typeof (manager as Partial<ModelClient>).generate !== 'function';
}

function nextInOrder(names: readonly string[], last: string | undefined, candidates: readonly string[]): string {
  const start = last === undefined ? 0 : names.indexOf(last) + 1;
  for (let i = 0; i < names.length; i++) {
    const name = names[(start + i) % names.length]!;
    if (candidates.includes(name)) return name;
  }
  return candidates[0]!;
}

function header(
  crew: string,
  roster: ReadonlyArray<{ name: string; description: string }>,
  input: string | undefined,
  messages: readonly ChatMessage[],
): string {
  const parts = [`# Group chat: ${crew}`, `## Members\n${roster.map((m) => `- ${m.name}: ${m.description}`).join('\n')}`];
  if (input) parts.push(`## Request\n${input}`);
  parts.push(
    `## Conversation so far\n${messages.length === 0 ? 'Nobody has spoken yet.' : messages.map((m) => `### ${m.speaker}\n${m.message}`).join('\n\n')}`,
  );
  return parts.join('\n\n');
}

function turnPrompt(
  crew: string,
  roster: ReadonlyArray<{ name: string; description: string }>,
  input: string | undefined,
  messages: readonly ChatMessage[],
  speaker: string,
  finishers: ReadonlySet<string>,
  canSay: boolean,
  managerFinishes: boolean,
): string {
  let ask: string;
  if (!canSay) ask = `It is your turn, ${speaker}. You speak last: call \`finish\` with the group's final result.`;
  else {
    ask = `It is your turn, ${speaker}. You may use your own tools first; then call \`say\` with your message to the group`;
    const enders = [...finishers, ...(managerFinishes ? ['the manager'] : [])];
    ask += finishers.has(speaker) ? ", or `finish` with the group's final result if the work is done." : `. Only ${enders.join(', ')} may end the chat.`;
  }
  return `${header(crew, roster, input, messages)}\n\n${ask}`;
}

function managerPrompt(
  crew: string,
  roster: ReadonlyArray<{ name: string; description: string }>,
  input: string | undefined,
  messages: readonly ChatMessage[],
  candidates: readonly string[],
  canFinish: boolean,
): string {
  const ask = `Who should speak next? Choose one of: ${candidates.join(', ')}. Call \`select_speaker\` with the name and your reason`;
  return `${header(crew, roster, input, messages)}\n\n${ask}${canFinish ? ", or `finish` with the group's final result if the work is done." : '.'}`;
}

// Words a closing message is made of. A message counts as pleasantries only if it has one of the
// `core` words and nothing but these and members' names: "Thanks Bob, bye!" yes, "Thanks, here is the fix" no.
const core = new Set(['bye', 'goodbye', 'thanks', 'thank', 'thx', 'welcome', 'terminate', 'cheers', 'care', 'farewell', 'pleasure', 'later', 'regards', 'day']);
const filler = new Set([
  ...core,
  'you',
  'youre',
  'your',
  'and',
  'too',
  'all',
  'everyone',
  'everybody',
  'again',
  'so',
  'much',
  'very',
  'a',
  'lot',
  'for',
  'now',
  'ok',
  'okay',
  'great',
  'good',
  'nice',
  'have',
  'take',
  'see',
  'ya',
  'talk',
  'soon',
  'no',
  'problem',
  'my',
  'glad',
  'happy',
  'to',
  'help',
  'same',
  'the',
  'best',
  'it',
  'was',
  'is',
  'team',
  'folks',
  'of',
  'course',
  'indeed',
  'likewise',
]);
const maxPleasantryWords = 12;

export function normalizeMessage(text: string): string {
  return text
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Whether a message is only pleasantries (goodbyes, thanks, TERMINATE), addressed to anyone in `names`. */
export function isPleasantry(text: string, names: readonly string[] = []): boolean {
  const words = normalizeMessage(text)
    .split(' ')
    .filter((word) => word.length > 0);
  if (words.length === 0 || words.length > maxPleasantryWords) return false;
  const nameWords = new Set(names.flatMap((name) => normalizeMessage(name).split(' ')));
  return words.some((word) => core.has(word)) && words.every((word) => filler.has(word) || nameWords.has(word));
}

/**
 * Per run: takes each new message and returns the current streak of messages that made no
 * progress (empty after normalizing, a repeat of an earlier message, or only pleasantries).
 */
function progressJudge(names: readonly string[]) {
  return () => {
    const seen = new Map<string, number>();
    let streak: Array<ChatMessage & { why: string }> = [];
    return (message: ChatMessage) => {
      const normal = normalizeMessage(message.message);
      const earlier = seen.get(normal);
      let why: string | undefined;
      if (normal.length === 0) why = 'says nothing';
      else if (earlier !== undefined) why = `repeats round ${earlier}`;
      else if (isPleasantry(message.message, names)) why = 'only pleasantries';
      if (!seen.has(normal)) seen.set(normal, message.round);
      streak = why === undefined ? [] : [...streak, { ...message, why }];
      return streak;
    };
  };
}

function checkNames(crew: string, field: string, given: readonly string[], members: ReadonlyMap<string, unknown>): string[] {
  for (const name of given) {
    if (!members.has(name)) {
      throw new ConfigurationError(`Group chat "${crew}" names "${name}" in ${field}, who is not a member (members: ${[...members.keys()].join(', ')}).`, {
        field,
      });
    }
  }
  return [...given];
}

function checkTransitions(
  crew: string,
  graph: Readonly<Record<string, readonly string[]>>,
  members: ReadonlyMap<string, unknown>,
  finishers: ReadonlySet<string>,
): Map<string, string[]> {
  const transitions = new Map<string, string[]>();
  for (const [from, to] of Object.entries(graph)) {
    checkNames(crew, 'allowedTransitions', [from], members);
    const successors = checkNames(crew, `allowedTransitions.${from}`, to, members);
    if (successors.length === 0 && !finishers.has(from)) {
      throw new ConfigurationError(`In group chat "${crew}", nobody may speak after "${from}", who is not a finisher: the chat could not go on or end.`, {
        field: `allowedTransitions.${from}`,
      });
    }
    transitions.set(from, [...new Set(successors)]);
  }
  return transitions;
}

function positiveInteger(crew: string, field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigurationError(`Group chat "${crew}": ${field} must be a whole number of at least 1 (got ${value}).`, { field });
  return value;
}
