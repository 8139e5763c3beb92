// #region retry
import { z } from 'zod';
import { Agent, FinishValidationError } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const Verdict = z.object({
  label: z.enum(['bug', 'feature', 'question']),
  confidence: z.number().min(0).max(1),
});

const triage = new Agent({
  name: 'triage',
  instructions: 'Label the issue you are given.',
  output: Verdict, // the finish tool's arguments are checked against it
  model: scriptedModel([
    reply.text('This looks like a bug to me.'), // text alone does not end the run
    reply.finish({ label: 'defect', confidence: 1.5 }), // invalid: the errors go back to the model
    reply.finish({ label: 'bug', confidence: 0.9 }),
  ]),
});

const result = await triage.run('The CLI crashes when --input names a folder.');
for (const message of result.transcript.slice(1)) {
  if (message.role === 'user') console.log(`told: ${message.content}`);
  if (message.role === 'tool') console.log(`told: ${message.content.map((part) => part.output).join(' ')}`);
}
console.log(result.status, result.output, `after ${result.turns} model calls`);
// #endregion

// #region gives-up
// A model that never gets it right: after maxFinishAttempts invalid finish calls the run throws.
const stubborn = new Agent({
  name: 'triage',
  instructions: 'Label the issue you are given.',
  output: Verdict,
  maxFinishAttempts: 2, // default 3
  model: scriptedModel([reply.finish({ label: 'defect' }), reply.finish({ label: 'defect' })]),
});
try {
  await stubborn.run('The CLI crashes when --input names a folder.');
} catch (error) {
  if (!(error instanceof FinishValidationError)) throw error;
  console.log(error.code, error.attempts, `${error.transcript.length} messages kept`);
  console.log(error.message);
}
// #endregion
