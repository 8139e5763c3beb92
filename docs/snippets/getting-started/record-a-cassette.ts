import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { Agent, ReplayModel } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

// A cassette is a JSON file; this one goes under the Troupe home (default .troupe).
const cassette = join(process.env.TROUPE_HOME || '.troupe', 'cassettes', 'capital.json');
rmSync(cassette, { force: true }); // start from an empty cassette on every run
const agent = new Agent({ name: 'geographer', instructions: 'Answer with the capital city only.', output: z.object({ city: z.string() }) });

// #region record
// `record` calls the live model for every request and writes each answer to the cassette. Here a
// scripted model stands in for the live one (anthropic:… or openai:… with its key, in real use).
const live = scriptedModel([reply.finish({ city: 'Paris' })], { id: 'scripted:stand-in' });
const recorder = new ReplayModel({ cassette, mode: 'record', live });
await agent.run('What is the capital of France?', { model: recorder });
const file = JSON.parse(readFileSync(cassette, 'utf8')) as { version: number; entries: unknown[] };
console.log(`recorded ${file.entries.length} call (cassette version ${file.version})`);
// #endregion

// #region replay
// `replay` (the default) answers only from the cassette: no key, no network, the same answer every time.
const replay = new ReplayModel({ cassette });
const again = await agent.run('What is the capital of France?', { model: replay });
console.log(again.output, `answered by ${again.model}`);
// #endregion

// #region miss
// A request that was never recorded is an error that says why, never a guess.
await agent
  .run('What is the capital of Italy?', { model: new ReplayModel({ cassette }) })
  .catch((error: Error & { code?: string }) => console.log(`${error.name} (${error.code}): ${error.message}`));
// #endregion
