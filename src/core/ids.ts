import { customAlphabet } from 'nanoid';

/** Makes unique ids. Injected wherever ids are made so that tests and replays repeat exactly. */
export type IdGenerator = (prefix?: string) => string;

// No ':' and never all digits: the ids double as BullMQ job ids, which forbid both.
const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
const random = customAlphabet(alphabet, 16);

export const randomIds: IdGenerator = (prefix = 'id') => `${prefix}_${random()}`;

/** Ids that count up from 1 per prefix: `run_1`, `run_2`, `call_1`, ... */
export function sequentialIds(): IdGenerator {
  const counters = new Map<string, number>();
  return (prefix = 'id') => {
    const next = (counters.get(prefix) ?? 0) + 1;
    counters.set(prefix, next);
    return `${prefix}_${next}`;
  };
}

/** The current time in milliseconds since the epoch. Injected for the same reason as ids. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export function manualClock(start = 0): Clock & { advance(ms: number): void; set(ms: number): void } {
  let time = start;
  return {
    now: () => time,
    advance(ms) {
      time += ms;
    },
    set(ms) {
      time = ms;
    },
  };
}
