// Runs the math-tutor crew in a fresh temporary work directory: offline on its recorded
// transcript without ANTHROPIC_API_KEY, live with it. Prints the outcome and the files written.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultModel, liveOrReplay, loadCrew, type CrewResult } from 'troupe';
import { workspaceTools } from '../../tools/workspace.js';
import { approver } from './tools.js';

export async function runMathTutor(workDir = mkdtempSync(join(tmpdir(), 'math-tutor-'))): Promise<CrewResult<unknown>> {
  const tools = workspaceTools(workDir);
  const crew = loadCrew('crews/math-tutor/crew.yaml', { tools: Object.values(tools) });
  const model = liveOrReplay(defaultModel, 'crews/math-tutor/cassette.json');
  const result = await crew.run(undefined, { model, approver });
  console.log(`math-tutor ${result.status}: ${result.stop.reason}`);
  console.log(
    `work directory ${workDir}: ${readdirSync(workDir)
      .filter((name) => !name.startsWith('.'))
      .join(', ')}`,
  );
  console.log(
    `usage: ${result.usage.total.turns} model calls, ${result.usage.total.usage.inputTokens + result.usage.total.usage.outputTokens} tokens, $${result.usage.total.costUsd.toFixed(4)}`,
  );
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await runMathTutor();
