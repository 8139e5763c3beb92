import type { UsageFigures } from '../observe/trace-event.js';

/** What termination conditions look at. Counters cover the run so far. */
export interface RunProgress {
  /** Model calls made. */
  turns: number;
  /** Tool calls executed (the finish call excluded). */
  toolCalls: number;
  usage: UsageFigures;
  costUsd: number;
  startedAt: number;
  now: number;
  /** Text of the latest assistant message. */
  lastText: string;
  /** What is about to happen: the check runs before each model call and before each batch of tool calls. */
  next: NextStep;
}

/**
 * A model call about to be made, with estimates when a condition asked for them (`needsEstimates`):
 * its input, conservatively; the output it is expected to need (the average so far); their sum;
 * and the same in USD, with the price of one output token so a budget can bound the reply.
 */
export interface ModelCallStep {
  kind: 'model-call';
  estimatedTokens: number;
  estimatedCostUsd: number;
  estimatedInputTokens: number;
  expectedOutputTokens: number;
  estimatedInputCostUsd: number;
  outputTokenCostUsd: number;
}

export type NextStep = ModelCallStep | { kind: 'tool-calls'; count: number };

/** Why a condition stopped the run, with its numbers. */
export interface TerminationVerdict {
  condition: string;
  reason: string;
  detail: Record<string, unknown>;
}

/**
 * Decides whether a run must stop. Checked before each model call (so a call that would exceed a
 * budget is never made) and before each batch of tool calls. Compose with `and` / `or`.
 */
export interface TerminationCondition {
  readonly name: string;
  check(progress: RunProgress): TerminationVerdict | undefined;
  /** When the run must be over, as a time (ms since epoch), so the loop can also abort a call in flight. */
  deadline?(startedAt: number): number | undefined;
  /** The condition needs token and cost estimates of the next call (budgets); others skip computing them. */
  readonly needsEstimates?: boolean;
  /**
   * The most output tokens the next model call may produce without breaking this condition. The
   * agent lowers the call's max output tokens to it, so a reply cannot overrun a budget whatever
   * the model writes. Undefined: no bound.
   */
  outputAllowance?(progress: RunProgress): number | undefined;
  /** The condition counts money: the run's model must have a price (`registerPrice`), or it could never fire. */
  readonly needsPrice?: boolean;
  /** The signal whose abort should also cancel a call in flight. */
  readonly signal?: AbortSignal;
  or(other: TerminationCondition): TerminationCondition;
  and(other: TerminationCondition): TerminationCondition;
}

type Check = Pick<TerminationCondition, 'name' | 'check'> & {
  deadline?: NonNullable<TerminationCondition['deadline']>;
  outputAllowance?: NonNullable<TerminationCondition['outputAllowance']>;
  needsEstimates?: boolean;
  needsPrice?: boolean;
  signal?: AbortSignal;
};

function condition(spec: Check): TerminationCondition {
  const built: TerminationCondition = {
    ...spec,
    or: (other) => anyOf(built, other),
    and: (other) => allOf(built, other),
  };
  return built;
}

/** Stops when either condition would; reports the first that fired. */
export function anyOf(...conditions: TerminationCondition[]): TerminationCondition {
  const needsEstimates = conditions.some((c) => c.needsEstimates);
  const signals = conditions.map((c) => c.signal).filter((s): s is AbortSignal => s !== undefined);
  const spec: Check = {
    name: conditions.map((c) => c.name).join(' or '),
    check(progress) {
      for (const c of conditions) {
        const verdict = c.check(progress);
        if (verdict) return verdict;
      }
      return undefined;
    },
    deadline(startedAt) {
      let earliest: number | undefined;
      for (const c of conditions) {
        const at = c.deadline?.(startedAt);
        if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
      }
      return earliest;
    },
    outputAllowance(progress) {
      let least: number | undefined;
      for (const c of conditions) {
        const allowed = c.outputAllowance?.(progress);
        if (allowed !== undefined && (least === undefined || allowed < least)) least = allowed;
      }
      return least;
    },
    needsEstimates,
    needsPrice: conditions.some((c) => c.needsPrice),
  };
  if (signals.length === 1) spec.signal = signals[0]!;
  else if (signals.length > 1) spec.signal = AbortSignal.any(signals);
  return condition(spec);
}

/** Stops only when every condition would; the verdict names them all. No deadline: a timer cannot know the other conditions. */
export function allOf(...conditions: TerminationCondition[]): TerminationCondition {
  return condition({
    name: conditions.map((c) => c.name).join(' and '),
    check(progress) {
      const verdicts: TerminationVerdict[] = [];
      for (const c of conditions) {
        const verdict = c.check(progress);
        if (!verdict) return undefined;
        verdicts.push(verdict);
      }
      return {
        condition: verdicts.map((v) => v.condition).join(' and '),
        reason: verdicts.map((v) => v.reason).join('; and '),
        detail: Object.assign({}, ...verdicts.map((v) => v.detail)),
      };
    },
    // The run goes on until every condition fires, so the reply is bounded only by the loosest of them.
    outputAllowance(progress) {
      let most = 0;
      for (const c of conditions) {
        const allowed = c.outputAllowance?.(progress);
        if (allowed === undefined) return undefined;
        most = Math.max(most, allowed);
      }
      return most;
    },
    needsEstimates: conditions.some((c) => c.needsEstimates),
    needsPrice: conditions.some((c) => c.needsPrice),
  });
}

/** At most `limit` model calls. */
export function maxTurns(limit: number): TerminationCondition {
  return condition({
    name: `max-turns(${limit})`,
    check: (p) =>
      p.next.kind === 'model-call' && p.turns >= limit
        ? { condition: 'max-turns', reason: `reached the limit of ${limit} model calls`, detail: { limit, turns: p.turns } }
        : undefined,
  });
}

/** At most `limit` tool calls; a batch that would go past it is not run. */
export function maxToolCalls(limit: number): TerminationCondition {
  return condition({
    name: `max-tool-calls(${limit})`,
    check(p) {
      if (p.next.kind !== 'tool-calls' || p.toolCalls + p.next.count <= limit) return undefined;
      return {
        condition: 'max-tool-calls',
        reason: `${p.toolCalls} tool calls made and ${p.next.count} more requested, over the limit of ${limit}`,
        detail: { limit, toolCalls: p.toolCalls, requested: p.next.count },
      };
    },
  });
}

/**
 * Total tokens (input + output) never pass `limit`. Before each model call its input is estimated
 * (conservatively); a call whose input and expected output do not fit in what is left is not made,
 * and a call that is made has its max output tokens lowered to what is left after its input.
 */
export function tokenBudget(limit: number): TerminationCondition {
  const usedOf = (p: RunProgress) => p.usage.inputTokens + p.usage.outputTokens;
  return condition({
    name: `token-budget(${limit})`,
    needsEstimates: true,
    check(p) {
      const used = usedOf(p);
      const left = limit - used;
      if (p.next.kind !== 'model-call') {
        return used < limit
          ? undefined
          : { condition: 'token-budget', reason: `used ${used} tokens of a budget of ${limit}`, detail: { limit, used, remaining: left } };
      }
      const input = p.next.estimatedInputTokens;
      const output = Math.max(1, p.next.expectedOutputTokens);
      const estimate = input + output;
      if (used < limit && estimate <= left) return undefined;
      return {
        condition: 'token-budget',
        reason:
          used >= limit
            ? `used ${used} tokens of a budget of ${limit}`
            : `the next model call (about ${estimate} tokens: ${input} in, ${output} out) would exceed the budget: ${used} of ${limit} used, ${left} left`,
        detail: { limit, used, estimate, estimatedInputTokens: input, expectedOutputTokens: output, remaining: left },
      };
    },
    outputAllowance: (p) => (p.next.kind === 'model-call' ? limit - usedOf(p) - p.next.estimatedInputTokens : undefined),
  });
}

/**
 * Total cost in USD never passes `limitUsd`, held like tokenBudget: a call that cannot fit is not
 * made, and one that is made may not write more output than the money left pays for. The model
 * needs a price (built in, or `registerPrice`); a run with an unpriced model is refused at its start.
 */
export function costBudget(limitUsd: number): TerminationCondition {
  return condition({
    name: `cost-budget(${limitUsd})`,
    needsEstimates: true,
    needsPrice: true,
    check(p) {
      const left = limitUsd - p.costUsd;
      if (p.next.kind !== 'model-call') {
        return p.costUsd < limitUsd
          ? undefined
          : {
              condition: 'cost-budget',
              reason: `spent $${p.costUsd.toFixed(6)} of a budget of $${limitUsd}`,
              detail: { limitUsd, usedUsd: p.costUsd, remainingUsd: left },
            };
      }
      const estimate = p.next.estimatedInputCostUsd + Math.max(1, p.next.expectedOutputTokens) * p.next.outputTokenCostUsd;
      if (p.costUsd < limitUsd && estimate <= left) return undefined;
      return {
        condition: 'cost-budget',
        reason: `spent $${p.costUsd.toFixed(6)} with the next call estimated at $${estimate.toFixed(6)}, over the budget of $${limitUsd} ($${Math.max(0, left).toFixed(6)} left)`,
        detail: { limitUsd, usedUsd: p.costUsd, estimateUsd: estimate, remainingUsd: left },
      };
    },
    outputAllowance(p) {
      if (p.next.kind !== 'model-call' || p.next.outputTokenCostUsd <= 0) return undefined;
      // A hair below the exact quotient, so that rounding in the sums never tips a call over the limit.
      return Math.floor(((limitUsd - p.costUsd - p.next.estimatedInputCostUsd) / p.next.outputTokenCostUsd) * (1 - 1e-9));
    },
  });
}

/** The run ends `ms` after it started; a model call still in flight then is aborted. */
export function timeout(ms: number): TerminationCondition {
  return condition({
    name: `timeout(${ms}ms)`,
    deadline: (startedAt) => startedAt + ms,
    check: (p) =>
      p.now - p.startedAt >= ms
        ? {
            condition: 'timeout',
            reason: `ran for ${p.now - p.startedAt} ms, over the limit of ${ms} ms`,
            detail: { limitMs: ms, elapsedMs: p.now - p.startedAt },
          }
        : undefined,
  });
}

/** Stops when the latest assistant text contains `text` (AutoGen's TERMINATE convention). */
export function textMention(text: string): TerminationCondition {
  return condition({
    name: `text-mention(${JSON.stringify(text)})`,
    check: (p) => (p.lastText.includes(text) ? { condition: 'text-mention', reason: `the agent wrote "${text}"`, detail: { text } } : undefined),
  });
}

/** Stops when the signal is aborted, including during a model call. */
export function abortSignal(signal: AbortSignal): TerminationCondition {
  return condition({
    name: 'abort-signal',
    signal,
    check: () =>
      signal.aborted
        ? { condition: 'abort-signal', reason: `aborted by the caller${signal.reason instanceof Error ? `: ${signal.reason.message}` : ''}`, detail: {} }
        : undefined,
  });
}
