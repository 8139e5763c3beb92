import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { type Configuration, matchTrigger, scheduleEveryMs } from '../../coordinator/configuration.js';
import { Handler, type HandleOptions, type HandlerOutcome, handlerRunRecords, handlerRunsCollection } from '../../coordinator/handler.js';
import type { Trigger } from '../../coordinator/trigger.js';
import { serveTriggerQueues, type ServedTriggerQueues } from '../../coordinator/trigger-queues.js';
import { schedule } from '../../coordinator/trigger-sources.js';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import { ExitCode } from '../../core/errors/troupe-error.js';
import { randomIds } from '../../core/ids.js';
import type { JsonValue } from '../../core/json.js';
import { maskRedisUrl } from '../../core/redis-url.js';
import { checkModelString } from '../../model/check-model-string.js';
import { redactSecretsDeep } from '../../observe/redact-secrets.js';
import { openJobQueue } from '../../queue/open-job-queue.js';
import { RedisLostError } from '../../queue/queue-errors.js';
import { resolveBackend } from '../../store/backend.js';
import { openStateStore } from '../../store/open-state-store.js';
import { startEventEndpoint, isLoopback } from '../event-endpoint.js';
import { findRunnable } from '../find-runnable.js';
import { loadHandlerConfiguration } from '../handler-configuration.js';
import { progressPrinter } from '../progress.js';
import { describeOutcome } from '../serve-handlers.js';
import { offlineModel } from '../workflow-module.js';
import { coordinatorFlag } from './run-handler.js';

interface ServeFlags {
  port: string;
  host: string;
  coordinator?: string;
  model?: string;
  concurrency: string;
  maxBodyBytes: string;
  quiet?: boolean;
}

interface Served {
  configuration: Configuration;
  handler: Handler;
}

/** How long a stop waits for running triggers before it gives up on them. */
const shutdownGraceMs = 10_000;

/**
 * `troupe serve <configuration…>`: serves handler configurations until stopped. `event` triggers
 * arrive over HTTP (`POST /events/<source>`, event-endpoint.ts), `queue` triggers from BullMQ when
 * REDIS_URL is set (the queues `troupe trigger` and `enqueueTrigger` add to), `schedule` triggers
 * on their `every:` interval, one run at a time per configuration. Outcomes and side effects are
 * recorded in the store, so a trigger delivered again (a webhook retried, a job redelivered, the
 * same event id) does not repeat an effect. SIGTERM or SIGINT: stop accepting, let running
 * triggers finish (up to 10 s), close queues and the store, exit 0; a second signal exits 1 at once.
 * On Redis, as for a worker, Redis unreachable at start exits 2, and lost for a minute exits 1.
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve handler configurations: an HTTP endpoint for event triggers, BullMQ for queue triggers (REDIS_URL), and schedules')
    .argument('<configuration...>', 'handler configurations: names (crews/<name>) or paths of their YAML files')
    .option('--port <n>', 'the HTTP port (0: any free port)', '8787')
    .option('--host <address>', 'the address to listen on; beyond loopback a token is required (TROUPE_SERVE_TOKEN, or one generated and printed)', '127.0.0.1')
    .option('--coordinator <llm|script>', "use this coordinator instead of each configuration's")
    .option('--model <provider:model>', "use this model instead of each configuration's")
    .option('--concurrency <n>', 'queue messages handled at once, per source', '4')
    .option('--max-body-bytes <n>', 'the largest event body accepted', String(1024 * 1024))
    .option('--quiet', 'no progress or outcome lines')
    .action(async (names: string[], flags: ServeFlags) => {
      process.exitCode = await serve(names, flags);
    });
}

async function serve(names: readonly string[], flags: ServeFlags): Promise<number> {
  const port = whole(flags.port, '--port', 0, 65_535);
  const concurrency = whole(flags.concurrency, '--concurrency', 1, 1000);
  const maxBodyBytes = whole(flags.maxBodyBytes, '--max-body-bytes', 1, 64 * 1024 * 1024);
  const coordinator = coordinatorFlag(flags.coordinator);
  if (flags.model) checkModelString(flags.model, { field: '--model' });
  const say = (line: string) => process.stderr.write(`[troupe] serve: ${line}\n`);
  const loaded = [];
  for (const name of names) {
    // Found as troupe run finds it (by name or path); it must be a handler configuration.
    const runnable = findRunnable(name);
    if (runnable.kind !== 'handler')
      throw new ConfigurationError(
        `${runnable.file} is a ${runnable.kind}, not a handler configuration: serve takes a YAML file whose top level has trigger:`,
        {
          field: 'configuration',
        },
      );
    loaded.push(await loadHandlerConfiguration(runnable.file));
  }
  const seen = new Map<string, string>();
  for (const { configuration, file } of loaded) {
    const first = seen.get(configuration.name);
    if (first) throw new ConfigurationError(`two configurations are named "${configuration.name}": ${first} and ${file}`, { field: 'configuration' });
    seen.set(configuration.name, file);
    if (configuration.trigger.kind === 'schedule' && configuration.trigger.every === undefined)
      throw new ConfigurationError('a schedule trigger needs every: to be served (e.g. every: 5m)', { file, field: 'trigger.every' });
  }
  const backend = resolveBackend();
  // Loaded only on Redis: the embedded server never loads ioredis.
  const liveness = backend.kind === 'redis' ? await import('../../queue/redis-liveness.js') : undefined;
  // Before anything opens a BullMQ connection, whose reconnect loop would keep the process alive.
  if (backend.kind === 'redis') await liveness?.checkRedis(backend.url);
  const store = await openStateStore({ backend });
  const run: HandleOptions = coordinator ? { coordinator } : {};
  const trace = flags.quiet ? {} : { trace: progressPrinter() };
  const served: Served[] = loaded.map(({ configuration, tools, home }) => {
    const usesModel = (coordinator ?? configuration.coordinator) === 'llm';
    const model = flags.model ?? (usesModel ? offlineModel(home) : undefined);
    return { configuration, handler: new Handler({ configurations: [configuration], tools, store, recordRuns: true, ...trace, ...(model ? { model } : {}) }) };
  });
  const report = (outcome: HandlerOutcome, source: string) => {
    if (!flags.quiet) process.stdout.write(`${describeOutcome(redactSecretsDeep(outcome), source)}\n`);
  };

  // Triggers being handled, so a stop can wait for them.
  const running = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work);
    void work.finally(() => running.delete(work)).catch(() => {});
    return work;
  };

  const events = served.filter(({ configuration }) => configuration.trigger.kind === 'event' || configuration.trigger.kind === undefined);
  const eventSources = [...new Set(events.flatMap(({ configuration }) => (configuration.trigger.source ? [configuration.trigger.source] : [])))];
  const anySource = events.some(({ configuration }) => !configuration.trigger.source);
  let accepting = true;
  let stopWatch = () => {};
  const receiver = {
    sources: () => (anySource ? [...eventSources, '*'] : eventSources),
    async receive(event: { source: string; id: string; data: JsonValue; wait: boolean }) {
      if (!accepting) return { status: 503, body: { error: 'the server is stopping' } };
      const trigger: Trigger = { kind: 'event', id: event.id, source: event.source, data: event.data, receivedAt: Date.now() };
      const matches = events.map((entry) => ({ entry, result: matchTrigger(entry.configuration, trigger) }));
      const chosen = matches.filter((m) => m.result.matches).map((m) => m.entry);
      if (chosen.length === 0)
        return {
          status: 422,
          body: {
            status: 'no-match',
            trigger: event.id,
            why: `no configuration handles this event: ${matches.map((m) => `${m.entry.configuration.name} (${m.result.matches ? '' : m.result.why})`).join('; ')}`,
          },
        };
      if (chosen.length > 1)
        return {
          status: 409,
          body: { status: 'ambiguous', trigger: event.id, why: `${chosen.map((c) => c.configuration.name).join(', ')} all match this event` },
        };
      const runId = randomIds('handler');
      const work = track(chosen[0]!.handler.handle(trigger, { ...run, runId })).then((outcome) => {
        report(outcome, event.source);
        return outcome;
      });
      if (!event.wait) {
        work.catch((error: unknown) => say(`trigger ${event.source}/${event.id} failed: ${(error as Error).message}`));
        return { status: 202, body: { status: 'accepted', trigger: event.id, runId, location: `/runs/${runId}` } };
      }
      try {
        const outcome = redactSecretsDeep(await work);
        // A failed run may succeed when sent again (the same id makes no effect twice): 500 asks a webhook sender to retry.
        return { status: outcome.status === 'failed' ? 500 : 200, body: outcome };
      } catch (error) {
        return { status: 500, body: { status: 'failed', trigger: event.id, runId, why: (error as Error).message } };
      }
    },
    async run(runId: string) {
      const record = await handlerRunRecords.get(store, handlerRunsCollection, runId).catch(() => undefined);
      if (record) return { status: 200, body: record.value };
      return { status: 404, body: { error: `no finished run "${runId}" (a run still going answers 404 until it ends)` } };
    },
  };

  const token = serveToken(flags.host, say);
  const endpoint =
    events.length > 0
      ? await startEventEndpoint(receiver, { host: flags.host, port, maxBodyBytes, ...(token ? { token } : {}) }).catch(async (error: unknown) => {
          await store.close();
          throw new ConfigurationError(`cannot listen on ${flags.host}:${port}: ${(error as Error).message}`, { field: '--port' });
        })
      : undefined;
  if (endpoint)
    for (const { configuration } of events) say(`${configuration.name}: POST ${endpoint.url}/events/${configuration.trigger.source ?? '<any source>'}`);

  const queues: ServedTriggerQueues[] = [];
  const queued = served.filter(({ configuration }) => configuration.trigger.kind === 'queue');
  if (queued.length > 0 && backend.kind !== 'redis')
    say(`${queued.map((q) => q.configuration.name).join(', ')}: queue triggers are served from BullMQ: set REDIS_URL (not served now)`);
  if (backend.kind === 'redis') {
    for (const { configuration, handler } of queued) {
      const serving = await serveTriggerQueues(handler, {
        queue: (name) => openJobQueue({ name, backend }),
        concurrency,
        run,
        onOutcome: report,
      });
      queues.push(serving);
      if (serving.withoutSource.length > 0) say(`${configuration.name}: a queue trigger without a source is not served (give trigger.source)`);
      for (const source of serving.sources) say(`${configuration.name}: queue "${source}" on ${maskRedisUrl(backend.url)}`);
    }
  }

  const schedules = served
    .filter(({ configuration }) => configuration.trigger.kind === 'schedule')
    .map(({ configuration, handler }) => {
      const name = configuration.trigger.source ?? configuration.name;
      const everyMs = scheduleEveryMs(configuration.trigger.every!)!;
      say(`${configuration.name}: schedule "${name}" every ${everyMs} ms`);
      return schedule(handler, {
        name,
        everyMs,
        run,
        onOutcome: (outcome) => report(outcome, name),
        onError: (error) => say(`schedule "${name}" failed: ${(error as Error).message}`),
      });
    });

  if (!endpoint && queues.length === 0 && schedules.length === 0) {
    await store.close();
    throw new ConfigurationError('nothing to serve: no event or schedule trigger, and no queue trigger with REDIS_URL set', { field: 'configuration' });
  }
  say(`ready (pid ${process.pid}${endpoint ? `, listening on ${endpoint.url}` : ''})`);

  let lost: RedisLostError | undefined;
  const reason = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    // As a worker does: Redis away for a minute ends the process with 1, for its supervisor to restart it.
    if (backend.kind === 'redis') {
      const where = maskRedisUrl(backend.url);
      const watch = liveness?.watchRedis(backend.url, {
        onDown: (problem) => say(`Redis at ${where} does not answer (${problem}); retrying, exiting if it is not back within 60 s`),
        onBack: (ms) => say(`Redis at ${where} answers again after ${Math.round(ms / 1000)} s`),
        onLost: (ms, problem) => {
          lost = new RedisLostError(where, ms, problem);
          resolve('Redis lost');
        },
      });
      stopWatch = () => watch?.stop();
    }
  });
  stopWatch();
  const now = (again: NodeJS.Signals) => {
    say(`${again} again: stopping now, without waiting for running triggers`);
    process.exit(1);
  };
  process.on('SIGINT', now);
  process.on('SIGTERM', now);
  say(`${reason}: no longer accepting; finishing ${running.size} running triggers`);
  accepting = false;
  const closing = endpoint?.close();
  await Promise.all([
    ...schedules.map((timer) => timer.stop()),
    ...queues.map((serving) => serving.close({ graceMs: lost ? 1000 : shutdownGraceMs })),
    Promise.race([Promise.allSettled([...running]), new Promise((resolve) => setTimeout(resolve, lost ? 1000 : shutdownGraceMs).unref())]),
  ]);
  endpoint?.drop();
  await closing;
  await store.close().catch((error: unknown) => say(`the store did not close: ${(error as Error).message}`));
  // Everything Troupe opened is closed; a tool's own open socket or timer (or a lost Redis's
  // reconnect loop) must not keep the process alive.
  setTimeout(() => process.exit(lost ? ExitCode.failed : ExitCode.done), 2000).unref();
  if (lost) throw lost;
  say('stopped');
  return ExitCode.done;
}

/**
 * The token state-changing requests must carry: TROUPE_SERVE_TOKEN when set (never printed), else
 * on a loopback address none, else one generated for this process and printed once so its owner
 * can use it.
 */
function serveToken(host: string, say: (line: string) => void): string | undefined {
  const given = process.env['TROUPE_SERVE_TOKEN']?.trim();
  if (given) return given;
  if (isLoopback(host)) return undefined;
  const token = randomBytes(24).toString('base64url');
  say(`listening beyond loopback (${host}) without TROUPE_SERVE_TOKEN: requests need the header Authorization: Bearer ${token}`);
  return token;
}

function whole(text: string, field: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigurationError(`must be a whole number from ${min} to ${max}, not "${text}"`, { field });
  return value;
}
