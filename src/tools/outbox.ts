import { createHash } from 'node:crypto';
import { stableStringify } from '../core/json.js';
import type { SideEffects } from './define-tool.js';

/** The recorded result of one side-effecting tool call. */
export interface OutboxRecord {
  tool: string;
  /** What the model read as the call's result. */
  output: string;
  isError?: boolean;
  /** When the call ended (the run's clock). */
  at: number;
}

/**
 * Where the results of tool calls that change the world (`sideEffects: 'write' | 'external'`)
 * are recorded the moment they end, under a key that names the call: the run's step, the tool,
 * its exact input, and which such call of the step it is. Work is delivered at least once (a
 * resumed run, a retried job, a redelivered trigger repeat their conversation), so a call that
 * comes again with a key already recorded is answered from the record instead of acting twice.
 *
 * One gap stays, and no outbox can close it: a process that dies after the effect and before
 * `record` leaves nothing recorded. That is why the tool also receives the key
 * (`context.idempotencyKey`): pass it on to the system it calls (an `Idempotency-Key` header, a
 * `Message-ID`, a file created with `wx`) so that system can refuse the repeat.
 */
export interface Outbox {
  get(key: string): Promise<OutboxRecord | undefined>;
  /** Records a result once: when the key is already recorded, the first record stays and is returned. */
  record(key: string, record: OutboxRecord): Promise<OutboxRecord>;
}

/** Tools whose calls are recorded and never repeated. */
export function hasLastingEffects(sideEffects: SideEffects | undefined): boolean {
  return sideEffects === 'write' || sideEffects === 'external';
}

/**
 * The keys of one run step's side-effecting calls. A repeated step repeats its calls in the same
 * order, so "the second call of send_email with this input in step S" names the same call on every
 * delivery, while two deliberate identical calls in one run stay two effects.
 */
export class EffectScope {
  readonly #occurrences = new Map<string, number>();

  constructor(
    readonly outbox: Outbox,
    /** Stable across deliveries of the same work: a workflow step's idempotency key, a trigger's run id. */
    readonly scope: string,
  ) {}

  /** The key of the next call of `tool` with `input`; call it in the order the model made the calls. */
  keyFor(tool: string, input: unknown): string {
    const inputHash = hash(stableStringify(input ?? null));
    const name = `${tool}:${inputHash}`;
    const occurrence = (this.#occurrences.get(name) ?? 0) + 1;
    this.#occurrences.set(name, occurrence);
    // Store ids are at most 100 characters of a small alphabet: the scope goes in hashed.
    return `effect-${hash(`${this.scope}\n${name}\n${occurrence}`)}`;
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
