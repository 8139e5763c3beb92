// Framework overhead of the agent loop: one agent, one `add` tool, a zero-latency model that asks
// for 10 tool calls and then finishes. Troupe's Agent and a minimal hand-written loop run the same
// scenario in the same process, so the ratio is meaningful on a noisy machine.
// Run: npm run bench:agent-loop   (builds, then runs with --expose-gc for the heap figures)
import { z } from 'zod';
import {
  Agent,
  createLogger,
  defineTool,
  maxTurns,
  tokenBudget,
  traceToLogger,
  type TraceEvent,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  type ToolCallPart,
} from 'troupe';

const toolCallsPerRun = 10;
const callsPerRun = toolCallsPerRun + 1;
const runs = 300;
const warmupRuns = 100;

/** Answers with 10 `add` calls then `finish`, reading the turn from the conversation so it needs no state. */
function zeroLatencyModel(): ModelClient & { release?: () => void } {
  return {
    id: 'bench:zero-latency',
    async generate(request: ModelRequest): Promise<ModelResponse> {
      const turn = (request.messages.length - 1) / 2;
      const call: ToolCallPart =
        turn < toolCallsPerRun
          ? { type: 'tool-call', id: `c${turn}`, name: 'add', input: { a: turn, b: 1 } }
          : { type: 'tool-call', id: 'f', name: 'finish', input: { total: turn } };
      return { content: [call], stopReason: 'tool-calls', usage: { inputTokens: 10, outputTokens: 5 }, model: 'bench' };
    },
  };
}

const add = defineTool({ name: 'add', description: 'Adds two numbers.', input: z.object({ a: z.number(), b: z.number() }), run: ({ a, b }) => a + b });
const agent = new Agent({ name: 'adder', tools: [add], output: z.object({ total: z.number() }), termination: maxTurns(20).or(tokenBudget(1_000_000_000)) });

// Every trace event is built and handed to a sink, as a persisted or dashboard-bound trace would be.
let traced = 0;
const trace = (event: TraceEvent) => {
  traced += event.at > 0 ? 1 : 0;
};

async function troupeRun(model: ModelClient): Promise<void> {
  const result = await agent.run('Add some numbers.', { model, runId: 'bench', trace });
  if (result.status !== 'finished') throw new Error('bench run did not finish');
}

// The same run logged at debug: every trace event becomes a pino line (written to a stream that
// drops it, so the figure is Troupe's and pino's cost, not the disk's).
let logged = 0;
const debugLogger = createLogger({
  level: 'debug',
  format: 'json',
  env: process.env,
  destination: {
    write: () => {
      logged++;
    },
  },
});
const logTrace = traceToLogger(debugLogger);

async function troupeLoggedRun(model: ModelClient): Promise<void> {
  const result = await agent.run('Add some numbers.', { model, runId: 'bench', trace: logTrace });
  if (result.status !== 'finished') throw new Error('bench run did not finish');
}

/** The least a loop can do: call the model, run the tools it names, stop on finish. No validation, no budgets, no traces. */
async function bareRun(model: ModelClient): Promise<void> {
  const messages: ModelRequest['messages'][number][] = [{ role: 'user', content: 'Add some numbers.' }];
  for (;;) {
    const response = await model.generate({ messages });
    messages.push({ role: 'assistant', content: response.content });
    const call = response.content[0] as ToolCallPart;
    if (call.name === 'finish') return;
    const { a, b } = call.input as { a: number; b: number };
    messages.push({ role: 'tool', content: [{ type: 'tool-result', callId: call.id, name: call.name, output: String(a + b) }] });
  }
}

type Loop = (model: ModelClient) => Promise<void>;

// CPU time per call too (this process, all its threads): on a loaded machine the wall time of a
// sequential loop is mostly time spent waiting for a core, and its ratios swing tenfold.
const cpuMicros = new Map<Loop, number>();

interface Pass {
  wallUs: number;
  cpuUs: number;
}

async function measurePass(loop: Loop, model: ModelClient, concurrent: boolean): Promise<Pass> {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  if (concurrent) await Promise.all(Array.from({ length: runs }, () => loop(model)));
  else for (let i = 0; i < runs; i++) await loop(model);
  const elapsedNs = Number(process.hrtime.bigint() - started);
  const used = process.cpuUsage(cpu);
  return { wallUs: elapsedNs / 1000 / (runs * callsPerRun), cpuUs: (used.user + used.system) / (runs * callsPerRun) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

// The sequential loops are measured in alternating passes, and each figure is the median of the
// passes after the first: measured one after the other, the first loop measured (Troupe's) paid
// for the JIT compiling it while the hand loop, a few lines, was compiled within its warm-up, and
// the ratios said more about the order than about the loops. The first pass is reported as well.
const steadyPasses = 5;
const firstPass = new Map<Loop, Pass>();

async function sequentialMicros(loops: readonly Loop[]): Promise<Map<Loop, number>> {
  const model = zeroLatencyModel();
  const passes = new Map<Loop, Pass[]>(loops.map((loop) => [loop, []]));
  for (const loop of loops) for (let i = 0; i < warmupRuns; i++) await loop(model);
  for (let pass = 0; pass <= steadyPasses; pass++) for (const loop of loops) passes.get(loop)!.push(await measurePass(loop, model, false));
  const wall = new Map<Loop, number>();
  for (const [loop, [first, ...steady]] of passes) {
    firstPass.set(loop, first!);
    wall.set(loop, median(steady.map((pass) => pass.wallUs)));
    cpuMicros.set(loop, median(steady.map((pass) => pass.cpuUs)));
  }
  return wall;
}

async function concurrentMicros(loop: Loop): Promise<number> {
  const model = zeroLatencyModel();
  for (let i = 0; i < warmupRuns; i++) await loop(model);
  return (await measurePass(loop, model, true)).wallUs;
}

/** Heap held by each run while it waits on its model: start many runs whose model never answers, then measure. */
async function heapPerWaitingRun(loop: Loop): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return Number.NaN;
  const waiting = 2000;
  const pending: Array<() => void> = [];
  const stalled: ModelClient = {
    id: 'bench:stalled',
    generate: () =>
      new Promise<ModelResponse>((resolve) =>
        pending.push(() =>
          resolve({
            content: [{ type: 'tool-call', id: 'f', name: 'finish', input: { total: 0 } }],
            stopReason: 'tool-calls',
            usage: { inputTokens: 1, outputTokens: 1 },
            model: 'bench',
          }),
        ),
      ),
  };
  gc();
  const before = process.memoryUsage().heapUsed;
  const done = Array.from({ length: waiting }, () => loop(stalled));
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const after = process.memoryUsage().heapUsed;
  for (const release of pending) release();
  await Promise.all(done);
  return (after - before) / waiting / 1024;
}

function row(label: string, troupe: number, bare: number, unit: string, digits = 2): string {
  return `${label.padEnd(44)} ${troupe.toFixed(digits).padStart(9)} ${bare.toFixed(digits).padStart(9)} ${unit.padEnd(5)} ${(troupe / bare).toFixed(1).padStart(6)}x`;
}

const sequential = await sequentialMicros([troupeRun, troupeLoggedRun, bareRun]);
const [troupeSequential, loggedSequential, bareSequential] = [troupeRun, troupeLoggedRun, bareRun].map((loop) => sequential.get(loop)!) as [
  number,
  number,
  number,
];
const troupeConcurrent = await concurrentMicros(troupeRun);
const bareConcurrent = await concurrentMicros(bareRun);
const troupeHeap = await heapPerWaitingRun(troupeRun);
const bareHeap = await heapPerWaitingRun(bareRun);

console.log(
  `agent-loop: ${runs} runs of ${toolCallsPerRun} tool calls + finish, after ${warmupRuns} warm-up runs; sequential figures are medians of ${steadyPasses} alternating passes after a first; node ${process.version}`,
);
console.log(`troupe runs validate tool input and the finish result, check a token budget before each call and emitted ${traced} trace events`);
console.log(`${''.padEnd(44)} ${'troupe'.padStart(9)} ${'bare'.padStart(9)} ${''.padEnd(5)} ${'ratio'.padStart(7)}`);
console.log(row('time per model call, sequential', troupeSequential, bareSequential, 'µs'));
console.log(row('time per model call, debug logging (pino)', loggedSequential, bareSequential, 'µs'));
console.log(row('time per model call, 300 concurrent', troupeConcurrent, bareConcurrent, 'µs'));
console.log(row('heap per run waiting on its model', troupeHeap, bareHeap, 'KiB'));
console.log(
  `framework overhead per model call (troupe - bare): ${(troupeSequential - bareSequential).toFixed(2)} µs sequential, ${(troupeConcurrent - bareConcurrent).toFixed(2)} µs concurrent (aim: < 20 µs)`,
);
console.log(
  `debug logging: ${(loggedSequential / bareSequential).toFixed(1)}x the hand loop (aim: < 10x), ${(loggedSequential / troupeSequential).toFixed(1)}x the same run traced without a logger; ${logged} lines written`,
);
const [troupeCpu, loggedCpu, bareCpu] = [troupeRun, troupeLoggedRun, bareRun].map((loop) => cpuMicros.get(loop)!) as [number, number, number];
console.log(
  `CPU per model call, sequential: troupe ${troupeCpu.toFixed(2)} µs, debug logging ${loggedCpu.toFixed(2)} µs, bare ${bareCpu.toFixed(2)} µs (debug logging ${(loggedCpu / troupeCpu).toFixed(1)}x the traced run)`,
);
const [troupeFirst, loggedFirst, bareFirst] = [troupeRun, troupeLoggedRun, bareRun].map((loop) => firstPass.get(loop)!.cpuUs) as [number, number, number];
console.log(
  `CPU per model call, first pass (JIT still compiling): troupe ${troupeFirst.toFixed(2)} µs, debug logging ${loggedFirst.toFixed(2)} µs, bare ${bareFirst.toFixed(2)} µs (debug logging ${(loggedFirst / bareFirst).toFixed(1)}x the hand loop)`,
);
console.log(`heap per waiting run: ${troupeHeap.toFixed(2)} KiB (aim: < 16 KiB)${Number.isNaN(troupeHeap) ? ' — run with --expose-gc' : ''}`);
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
const round = (value: number) => (Number.isNaN(value) ? null : Number(value.toFixed(2)));
console.log(
  JSON.stringify({
    bench: 'agent-loop',
    runs,
    us_per_call: {
      troupe_sequential: round(troupeSequential),
      bare_sequential: round(bareSequential),
      troupe_debug_logging: round(loggedSequential),
      troupe_concurrent: round(troupeConcurrent),
      bare_concurrent: round(bareConcurrent),
    },
    ratio: {
      sequential: round(troupeSequential / bareSequential),
      debug_logging: round(loggedSequential / bareSequential),
      debug_logging_vs_traced: round(loggedSequential / troupeSequential),
      concurrent: round(troupeConcurrent / bareConcurrent),
    },
    cpu_us_per_call: { troupe_sequential: round(troupeCpu), troupe_debug_logging: round(loggedCpu), bare_sequential: round(bareCpu) },
    cpu_ratio: { sequential: round(troupeCpu / bareCpu), debug_logging: round(loggedCpu / bareCpu), debug_logging_vs_traced: round(loggedCpu / troupeCpu) },
    first_pass_cpu_us_per_call: { troupe_sequential: round(troupeFirst), troupe_debug_logging: round(loggedFirst), bare_sequential: round(bareFirst) },
    kib_per_waiting_run: { troupe: round(troupeHeap), bare: round(bareHeap) },
  }),
);
