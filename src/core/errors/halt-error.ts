import { TroupeError, type TroupeErrorOptions } from './troupe-error.js';

/**
 * Thrown from inside a run (by a tool, a delegation, a speaker selector) to end it now, on
 * purpose, with a reason: a delegation bound was hit, a loop was detected. The agent loop turns it
 * into a `stopped` result whose stop names `condition` and `detail`, exactly like a termination
 * condition, instead of reporting it to the model as a failed tool call.
 */
export class HaltError extends TroupeError {
  readonly code = 'halted';
  readonly fault = 'budget' as const;
  readonly condition: string;

  constructor(condition: string, reason: string, detail: Record<string, unknown> = {}, options: TroupeErrorOptions = {}) {
    super(reason, { ...options, details: { condition, ...detail, ...options.details } });
    this.condition = condition;
  }

  get verdict(): { condition: string; reason: string; detail: Record<string, unknown> } {
    const { condition: _condition, ...detail } = this.details;
    return { condition: this.condition, reason: this.message, detail };
  }
}
