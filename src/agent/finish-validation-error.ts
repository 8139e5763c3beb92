import type { ValidationIssue } from '../core/validation-issue.js';
import { formatIssues } from '../core/validation-issue.js';
import { TroupeError } from '../core/errors/troupe-error.js';
import type { Message, TokenUsage } from '../model/model-client.js';

/**
 * The model kept calling its finish tool with a result that does not match the output schema.
 * Model behaviour: try a stronger model, a clearer task, or a looser schema. Holds the transcript.
 */
export class FinishValidationError extends TroupeError {
  readonly code = 'finish_invalid';
  readonly fault = 'model' as const;
  readonly agent: string;
  readonly attempts: number;
  readonly issues: readonly ValidationIssue[];
  readonly transcript: readonly Message[];
  /** What the failed run spent, so callers can still account for it. */
  readonly spent: { usage: TokenUsage; costUsd: number; turns: number };

  constructor(
    agent: string,
    attempts: number,
    issues: readonly ValidationIssue[],
    transcript: readonly Message[],
    spent: { usage: TokenUsage; costUsd: number; turns: number } = { usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, turns: 0 },
  ) {
    super(
      `Agent "${agent}" called its finish tool ${attempts} times without a valid result; last problems: ${formatIssues(issues)}. ` +
        'Make the task or output schema clearer, raise maxFinishAttempts, or use a stronger model.',
      { details: { agent, attempts, issues } },
    );
    this.agent = agent;
    this.attempts = attempts;
    this.issues = issues;
    this.transcript = transcript;
    this.spent = spent;
  }
}
