// Runs merged-reaction.yaml over every message of the fixture channel, with the coordinator the
// file names or the one given (`node dist/crews/merged-reaction/run.js script`). The llm
// coordinator replays crews/merged-reaction/cassette.json without ANTHROPIC_API_KEY.
import { Handler, liveOrReplay, loadConfiguration, type HandlerOutcome } from 'troupe';
import { chatTools, loadChannel, messageTriggers } from './chat-tools.js';

export async function runMergedReaction(
  coordinator?: 'llm' | 'script',
): Promise<{ outcomes: HandlerOutcome[]; reactions: Array<{ ts: string; reaction: string }> }> {
  const channel = loadChannel();
  const { tools, reactions } = chatTools(channel);
  const configuration = loadConfiguration('crews/merged-reaction/merged-reaction.yaml', { tools });
  const handler = new Handler({ configurations: [configuration], tools, model: liveOrReplay(configuration.model!, 'crews/merged-reaction/cassette.json') });
  const outcomes: HandlerOutcome[] = [];
  for (const trigger of messageTriggers(channel)) {
    const outcome = await handler.handle(trigger, coordinator ? { coordinator } : {});
    outcomes.push(outcome);
    const calls = outcome.toolCalls.map((call) => call.tool).join(', ') || 'no tool calls';
    console.log(`${trigger.id} [${outcome.coordinator}] ${outcome.status}: ${calls}`);
  }
  console.log(`reactions: ${reactions.map((r) => `${r.ts} :${r.reaction}:`).join(', ') || 'none'}`);
  return { outcomes, reactions };
}

if (import.meta.url === `file://${process.argv[1]}`) await runMergedReaction(process.argv[2] as 'llm' | 'script' | undefined);
