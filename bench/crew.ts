// Framework overhead per agent turn (one model call) in crews, beside the single-agent loop measured
// in the same process: a 3-agent sequential crew (each member calls one tool, then finishes), a
// 20-turn round-robin group chat, and a hierarchical crew (a manager delegates to two members). The
// model answers at once, so what is measured is Troupe: prompts, validation, records, traces.
// Run: npm run bench:crew   (builds, then runs with --expose-gc so phases start from a collected heap)
import { z } from 'zod';
import {
  Agent,
  defineTask,
  defineTool,
  groupChatCrew,
  hierarchicalCrew,
  maxTurns,
  sequentialCrew,
  type Crew,
  type ModelClient,
  type ModelRequest,
  type ModelResponse,
  type ToolCallPart,
  type TraceEvent,
} from 'troupe';

const runs = 300;
const warmupRuns = 100;
const chatTurns = 20;

function answer(call: Omit<ToolCallPart, 'type'>): ModelResponse {
  return { content: [{ type: 'tool-call', ...call }], stopReason: 'tool-calls', usage: { inputTokens: 10, outputTokens: 5 }, model: 'bench' };
}

const toolMessages = (request: ModelRequest) => request.messages.filter((m) => m.role === 'tool').length;

/**
 * One zero-latency model for every role, answering from the request alone (no state, so runs can
 * share it): the tools it is offered say which role it plays, the conversation how far along it is.
 */
const model: ModelClient = {
  id: 'bench:zero-latency',
  async generate(request: ModelRequest): Promise<ModelResponse> {
    const tools = request.tools ?? [];
    if (tools.some((t) => t.name === 'say')) {
      // Group chat: the turn prompt lists the messages so far, one "### speaker" heading each.
      const first = request.messages[0];
      const said = first?.role === 'user' ? first.content.split('\n### ').length - 1 : 0;
      return said >= chatTurns - 1 && tools.some((t) => t.name === 'finish')
        ? answer({ id: 'f', name: 'finish', input: { result: `agreed after ${said} messages` } })
        : answer({ id: 's', name: 'say', input: { message: `point number ${said + 1}` } });
    }
    if (tools.some((t) => t.name === 'delegate_task')) {
      const done = toolMessages(request);
      return done < 2
        ? answer({ id: `d${done}`, name: 'delegate_task', input: { member: done === 0 ? 'first' : 'second', task: `part ${done + 1}`, context: '' } })
        : answer({ id: 'f', name: 'finish', input: { result: 'both parts done' } });
    }
    // A member or the single agent: `add` calls (1 for a crew member, 10 for the single agent), then finish.
    const calls = toolMessages(request);
    const finish = tools.find((t) => t.name === 'finish');
    const wanted = finish && 'total' in ((finish.inputSchema as { properties?: object }).properties ?? {}) ? 10 : 1;
    return calls < wanted
      ? answer({ id: `a${calls}`, name: 'add', input: { a: calls, b: 1 } })
      : answer({ id: 'f', name: 'finish', input: wanted === 10 ? { total: calls } : { result: `sum ${calls}` } });
  },
};

const add = defineTool({ name: 'add', description: 'Adds two numbers.', input: z.object({ a: z.number(), b: z.number() }), run: ({ a, b }) => a + b });
const member = (name: string) => new Agent({ name, description: `Member ${name}.`, instructions: `You are ${name}.`, tools: [add], termination: maxTurns(20) });

const single = new Agent({ name: 'adder', tools: [add], output: z.object({ total: z.number() }), termination: maxTurns(20) });
const sequential = sequentialCrew({
  name: 'pipeline',
  agents: [member('first'), member('second'), member('third')],
  tasks: ['first', 'second', 'third'].map((agent, index) =>
    defineTask({
      name: `step-${index + 1}`,
      description: `Step ${index + 1}: add the numbers.`,
      expectedOutput: 'The sum, in words.',
      agent,
      context: index === 0 ? [] : [`step-${index}`],
    }),
  ),
});
const chat = groupChatCrew({ name: 'chat', agents: [member('ann'), member('bob'), member('cy')], maxRounds: chatTurns });
const hierarchy = hierarchicalCrew({ name: 'desk', agents: [member('first'), member('second')], manager: { model } });

// Every trace event is built and handed to a sink, as a persisted or dashboard-bound trace would be.
let traced = 0;
const trace = (event: TraceEvent) => {
  traced += event.at > 0 ? 1 : 0;
};

interface Subject {
  label: string;
  /** Runs once and returns the number of agent turns (model calls) it took. */
  run(): Promise<number>;
}

const subjects: Subject[] = [
  {
    label: 'single agent (10 tool calls + finish)',
    async run() {
      const result = await single.run('Add some numbers.', { model, runId: 'bench', trace });
      if (result.status !== 'finished') throw new Error(`the single agent did not finish: ${result.stop.reason}`);
      return result.turns;
    },
  },
  crewSubject('sequential crew, 3 agents (tool + finish each)', sequential),
  crewSubject(`group chat, ${chatTurns} turns, round-robin`, chat),
  crewSubject('hierarchical crew, manager + 2 delegations', hierarchy),
];

function crewSubject(label: string, crew: Crew<unknown>): Subject {
  return {
    label,
    async run() {
      const result = await crew.run('Add some numbers.', { model, runId: 'bench', trace });
      if (result.status !== 'finished') throw new Error(`${crew.name} did not finish: ${result.stop.reason}`);
      return result.usage.total.turns;
    },
  };
}

async function measure(subject: Subject): Promise<{ turnsPerRun: number; microsPerTurn: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  for (let i = 0; i < warmupRuns; i++) await subject.run();
  let turns = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) turns += await subject.run();
  const elapsedNs = Number(process.hrtime.bigint() - started);
  return { turnsPerRun: turns / runs, microsPerTurn: elapsedNs / 1000 / turns };
}

const results = [];
for (const subject of subjects) results.push({ label: subject.label, ...(await measure(subject)) });
const baseline = results[0]!.microsPerTurn;

console.log(
  `crew: ${runs} runs each after ${warmupRuns} warm-up runs, a zero-latency model, every trace event delivered (${traced} in all); node ${process.version}`,
);
console.log(`${''.padEnd(48)} ${'turns/run'.padStart(9)} ${'µs/run'.padStart(9)} ${'µs/turn'.padStart(9)} ${'vs single'.padStart(10)}`);
for (const { label, turnsPerRun, microsPerTurn } of results) {
  const cells = [turnsPerRun.toFixed(0), (turnsPerRun * microsPerTurn).toFixed(0), microsPerTurn.toFixed(2), `${(microsPerTurn / baseline).toFixed(2)}x`];
  console.log(`${label.padEnd(48)} ${cells.map((cell, i) => cell.padStart(i === 3 ? 10 : 9)).join(' ')}`);
}
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);
console.log(
  JSON.stringify({
    bench: 'crew',
    runs,
    results: results.map(({ label, turnsPerRun, microsPerTurn }) => ({
      label,
      turns_per_run: turnsPerRun,
      us_per_turn: Number(microsPerTurn.toFixed(2)),
      vs_single: Number((microsPerTurn / baseline).toFixed(2)),
    })),
  }),
);
