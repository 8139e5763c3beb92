import { TroupeError, type TroupeErrorOptions } from './troupe-error.js';

/** A token, cost, call or time budget was spent; raise it or make the work smaller. */
export class BudgetExhaustedError extends TroupeError {
  readonly code = 'budget_exhausted';
  readonly fault = 'budget' as const;
  readonly budget: string;
  readonly limit: number;
  readonly used: number;

  constructor(budget: string, limit: number, used: number, options: TroupeErrorOptions = {}) {
    super(`The ${budget} budget is exhausted: ${used} used of ${limit}. Raise the limit or make the work smaller.`, {
      ...options,
      details: { budget, limit, used, ...options.details },
    });
    this.budget = budget;
    this.limit = limit;
    this.used = used;
  }
}
