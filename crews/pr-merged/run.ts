// Runs pr-merged.yaml over every message of the fixture channel, against the fixture service, with
// the coordinator the file names or the one given (`node dist/crews/pr-merged/run.js script`). The
// llm coordinator replays crews/pr-merged/cassette.json without ANTHROPIC_API_KEY. One message at a
// time: `npx troupe run pr-merged --trigger crews/pr-merged/events/<message>.json`.
import { Handler, liveOrReplay, loadConfiguration, type HandlerOutcome } from 'troupe';
import { chatTools, messageTriggers } from './chat-tools.js';
import { type Reaction, startFixtureService } from './fixture-service.js';

export async function runPrMerged(coordinator?: 'llm' | 'script'): Promise<{ outcomes: HandlerOutcome[]; reactions: Reaction[] }> {
  const service = await startFixtureService();
  try {
    const tools = chatTools({ github: service.url, chat: service.url });
    const configuration = loadConfiguration('crews/pr-merged/pr-merged.yaml', { tools });
    const handler = new Handler({ configurations: [configuration], tools, model: liveOrReplay(configuration.model!, 'crews/pr-merged/cassette.json') });
    const outcomes: HandlerOutcome[] = [];
    for (const trigger of messageTriggers(service.channel)) {
      const outcome = await handler.handle(trigger, coordinator ? { coordinator } : {});
      outcomes.push(outcome);
      const calls = outcome.toolCalls.map((call) => call.tool).join(', ') || 'no tool calls';
      console.log(`${trigger.id} [${outcome.coordinator}] ${outcome.status}: ${calls}`);
    }
    console.log(`reactions: ${service.reactions.map((r) => `${r.timestamp} :${r.name}:`).join(', ') || 'none'}`);
    return { outcomes, reactions: [...service.reactions] };
  } finally {
    await service.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runPrMerged(process.argv[2] as 'llm' | 'script' | undefined);
