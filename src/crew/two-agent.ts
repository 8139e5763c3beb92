import type { Agent } from '../agent/agent.js';
import { UserProxy, type ProxyDecision } from '../agent/user-proxy.js';
import type { Message } from '../model/model-client.js';
import type { Crew, CrewRunOptions } from './crew.js';
import { CrewContext } from './crew-context.js';
import type { CrewResult } from './crew-result.js';
import { render } from './task.js';

export interface TwoAgentChatOptions<Result = unknown> {
  name: string;
  /** Its output type is the chat's `result`. */
  assistant: Agent<Result>;
  userProxy: UserProxy;
  /** Assistant answers the proxy may review before the chat stops (default 10). */
  maxRounds?: number;
}

/** The chat's result: what the proxy said when it accepted, and the assistant's last answer. */
export interface TwoAgentOutput<Result> {
  summary: string;
  result: Result;
  rounds: number;
}

/**
 * An Assistant and a UserProxy in conversation (AutoGen's two-agent chat): the proxy writes the
 * request (or `input` is the first request), the assistant works and answers, the proxy reviews and
 * steers, until the proxy accepts or fails the goal or the round limit stops it. Both keep their
 * own conversation across rounds.
 */
export function twoAgentCrew<Result = string>(options: TwoAgentChatOptions<Result>): Crew<TwoAgentOutput<Result>> {
  const maxRounds = options.maxRounds ?? 10;
  return {
    name: options.name,
    process: 'two-agent',
    async run(input?: string, runOptions: CrewRunOptions = {}): Promise<CrewResult<TwoAgentOutput<Result>>> {
      const context = new CrewContext(options.name, 'two-agent', runOptions);
      const proxy = options.userProxy;
      let proxyHistory: Message[] = [];
      let assistantHistory: Message[] = [];

      const decide = async (
        latest: string | undefined,
      ): Promise<ProxyDecision | { kind: 'stopped' | 'failed'; condition: string; reason: string; detail: Record<string, unknown> }> => {
        if (proxy.humanInput) return proxy.askHuman(latest);
        const outcome = await context.runMember(proxy.agent, proxy.prompt(latest), { history: proxyHistory });
        if (outcome.status !== 'finished')
          return { kind: outcome.status, condition: outcome.condition, reason: `${proxy.name} ${outcome.status}: ${outcome.reason}`, detail: outcome.detail };
        proxyHistory = outcome.run.transcript;
        return UserProxy.decision(outcome.output);
      };

      let decision = input ? ({ kind: 'reply', message: input } as const) : await decide(undefined);
      let last: Result | undefined;
      for (let round = 1; ; round++) {
        if (decision.kind === 'accept') {
          return context.finish(
            { kind: 'finish', reason: `${proxy.name} accepted: ${decision.summary}` },
            { summary: decision.summary, result: last as Result, rounds: round - 1 },
          );
        }
        if (decision.kind === 'fail') {
          return context.finish({
            kind: 'failed',
            condition: 'goal-failed',
            reason: `${proxy.name} declared the goal failed: ${decision.reason}`,
            detail: { rounds: round - 1 },
          });
        }
        if (decision.kind !== 'reply')
          return context.finish({ kind: decision.kind, condition: decision.condition, reason: decision.reason, detail: decision.detail });
        if (round > maxRounds) {
          return context.finish({
            kind: 'stopped',
            condition: 'max-rounds',
            reason: `${proxy.name} had not accepted after ${maxRounds} rounds`,
            detail: { limit: maxRounds },
          });
        }

        const started = context.clock.now();
        context.emit({ type: 'task-start', crew: options.name, task: `round-${round}`, agent: options.assistant.name });
        const outcome = await context.runMember(options.assistant, decision.message, { history: assistantHistory });
        context.recorder.task({
          task: `round-${round}`,
          agent: options.assistant.name,
          status: outcome.status,
          output: outcome.output,
          reason: outcome.reason,
        });
        context.emit({
          type: 'task-end',
          crew: options.name,
          task: `round-${round}`,
          agent: options.assistant.name,
          status: outcome.status,
          durationMs: context.clock.now() - started,
          reason: outcome.reason,
        });
        if (outcome.status === 'finished') {
          assistantHistory = outcome.run.transcript;
          last = outcome.output;
          decision = await decide(render(outcome.output));
        } else {
          if (outcome.status === 'stopped') assistantHistory = outcome.run.transcript;
          // The proxy hears that the assistant could not finish and decides what to do, as a user would.
          decision = await decide(`(The assistant did not finish: ${outcome.reason})`);
        }
      }
    },
  };
}
