// Runs the research crew: offline on its recorded transcript without ANTHROPIC_API_KEY, live with it.
// Prints who delegated what to whom, the brief, and the usage per agent.
// Run: npm run build && node dist/crews/research/run.js   (or: node dist/bin/troupe.js run research)
import { defaultModel, liveOrReplay, loadCrew, type CrewResult, type TraceSink } from 'troupe';
import { z } from 'zod';
import { researchTools } from './tools.js';

/** The crew's output, as its `output.schema` in crew.yaml validates it; loadCrew checks the two fit. */
export const researchBrief = z.object({
  title: z.string(),
  summary: z.string(),
  recommendations: z.array(z.object({ advice: z.string(), sources: z.array(z.string()) })),
  sources: z.array(z.string()),
});
export type ResearchBrief = z.infer<typeof researchBrief>;

export interface RunResearchOptions {
  /** The research question; without one the manager researches the desk's standing question (that is what the cassette holds). */
  question?: string;
  trace?: TraceSink;
}

export async function runResearch(options: RunResearchOptions = {}): Promise<CrewResult<ResearchBrief>> {
  const crew = loadCrew('crews/research/crew.yaml', { tools: Object.values(researchTools()), output: researchBrief });
  const model = liveOrReplay(defaultModel, 'crews/research/cassette.json');
  const delegations: string[] = [];
  const trace: TraceSink = (event) => {
    if (event.type === 'delegation-start') delegations.push(`${event.agent} → ${event.member}: ${event.task}`);
    options.trace?.(event);
  };
  const result = await crew.run(options.question, { model, trace });

  console.log(`research ${result.status}: ${result.stop.reason}`);
  for (const line of delegations) console.log(`  ${line}`);
  if (result.status === 'finished') {
    console.log(`\n${result.output.title}\n\n${result.output.summary}\n`);
    for (const { advice, sources } of result.output.recommendations) console.log(`- ${advice} [${sources.join(', ')}]`);
  }
  console.log('\nusage:');
  for (const [agent, spent] of Object.entries(result.usage.byAgent)) {
    console.log(
      `  ${agent.padEnd(18)} ${spent.runs} run(s), ${spent.turns} model calls, ${spent.usage.inputTokens + spent.usage.outputTokens} tokens, $${spent.costUsd.toFixed(4)}`,
    );
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const question = process.argv.slice(2).join(' ').trim();
  await runResearch(question ? { question } : {});
}
