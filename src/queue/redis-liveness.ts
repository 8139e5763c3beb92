import { Redis } from 'ioredis';
import { maskRedisUrl } from '../core/redis-url.js';
import { settlesWithin } from './job-validation.js';
import { RedisUnreachableError } from './queue-errors.js';

/**
 * Whether Redis answers at `url`, once, within `timeoutMs`: connect without retrying, PING,
 * disconnect. Throws `RedisUnreachableError` naming the URL (password masked) and the reason.
 * A process that cannot work without Redis calls it first, so that a wrong or dead REDIS_URL
 * ends it at once with a clear message, instead of a BullMQ reconnect loop that never ends.
 */
export async function checkRedis(url: string, options: { timeoutMs?: number } = {}): Promise<void> {
  const masked = maskRedisUrl(url);
  const timeoutMs = options.timeoutMs ?? 5000;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: Error | undefined;
  client.on('error', (error: Error) => (lastError = error));
  const attempt = (async () => {
    await client.connect();
    return client.ping();
  })();
  try {
    if (!(await settlesWithin(attempt, timeoutMs + 1000))) throw new Error(`no answer within ${timeoutMs} ms`);
    await attempt;
  } catch (error) {
    const reason = lastError ?? error;
    throw new RedisUnreachableError(masked, reason instanceof Error ? reason.message : String(reason), { cause: reason });
  } finally {
    client.disconnect();
  }
}

export interface RedisWatchOptions {
  /** How long Redis may stay unreachable before `onLost` (default 60 s). */
  lostAfterMs?: number;
  /** How often to PING (default 1 s); a PING unanswered for this long counts as a failure. */
  intervalMs?: number;
  /** Redis stopped answering (called once per outage). */
  onDown?: (problem: string) => void;
  /** It answers again after `onDown`. */
  onBack?: (downForMs: number) => void;
  /** It has not answered for `lostAfterMs`; the watch stops. */
  onLost: (downForMs: number, problem: string) => void;
}

/**
 * Watches Redis with a PING on its own connection, so that a process which depends on it can
 * tell "Redis is away" from "nothing to do": BullMQ's workers reconnect forever and say nothing
 * more after their first error. The watch reports the outage, its end, and gives up after
 * `lostAfterMs`. `stop()` closes its connection.
 */
export function watchRedis(url: string, options: RedisWatchOptions): { stop(): void } {
  const lostAfterMs = options.lostAfterMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 1000;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: intervalMs * 2,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => intervalMs,
  });
  let lastError: Error | undefined;
  client.on('error', (error: Error) => (lastError = error));
  let downSince: number | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const probe = async (): Promise<string | undefined> => {
    try {
      if (client.status === 'wait') await client.connect();
      // Reconnecting: the last connection error says why better than "Stream isn't writeable".
      if (client.status !== 'ready') return lastError?.message ?? `the connection is ${client.status}`;
      const answered = client.ping();
      if (!(await settlesWithin(answered, intervalMs * 2))) {
        answered.catch(() => {});
        return `no answer to PING within ${intervalMs * 2} ms`;
      }
      await answered;
      lastError = undefined;
      return undefined;
    } catch (error) {
      return (lastError ?? (error as Error)).message ?? String(error);
    }
  };

  const tick = async () => {
    const problem = await probe();
    if (stopped) return;
    const now = Date.now();
    if (problem === undefined) {
      if (downSince !== undefined) options.onBack?.(now - downSince);
      downSince = undefined;
    } else if (downSince === undefined) {
      downSince = now;
      options.onDown?.(problem);
    } else if (now - downSince >= lostAfterMs) {
      stop();
      options.onLost(now - downSince, problem);
      return;
    }
    timer = setTimeout(() => void tick(), intervalMs);
  };
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    client.disconnect();
  };
  timer = setTimeout(() => void tick(), intervalMs);
  return { stop };
}
