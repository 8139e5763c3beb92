// Writes crews/math-tutor/cassette.json, the transcript the crew replays without a key. It is
// authored with a scripted model that plays both agents (its model id says `scripted:math-tutor`);
// the tools really run, so the recorded tool results are what the code does. To record live
// instead: delete the cassette and run the crew with TROUPE_RECORD=1
// TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 and ANTHROPIC_API_KEY.
// Run: npm run build && node dist/crews/math-tutor/author.js
import { rmSync } from 'node:fs';
import type { ModelRequest } from 'troupe';
import { registerModel, reply, scriptedModel, type ScriptedReply } from 'troupe/testing';

const tutorV1 = `export type Operation = '+' | '-' | '*';

export interface Question {
  text: string;
  answer: number;
}

/** A question with operands from 1 to 12; \`random\` is injected so tests are repeatable. */
export function makeQuestion(random: () => number, operations: Operation[] = ['+', '-', '*']): Question {
  const op = operations[Math.floor(random() * operations.length)]!;
  const a = 1 + Math.floor(random() * 12);
  const b = 1 + Math.floor(random() * 12);
  const answer = op === '+' ? a + b : op === '-' ? a - b : a * b;
  return { text: \`\${a} \${op} \${b}\`, answer };
}

export function checkAnswer(question: Question, input: string): { correct: boolean; message: string } {
  const value = Number(input.trim());
  return value === question.answer
    ? { correct: true, message: 'Correct!' }
    : { correct: false, message: \`Not quite: \${question.text} = \${question.answer}\` };
}
`;

const tutorV2 = `export type Operation = '+' | '-' | '*' | '/';

export interface Question {
  text: string;
  answer: number;
}

export type Check = { kind: 'correct'; message: string } | { kind: 'wrong'; message: string } | { kind: 'invalid'; message: string };

/** A question with operands from 1 to 12 and a whole-number answer; \`random\` is injected so tests are repeatable. */
export function makeQuestion(random: () => number, operations: Operation[] = ['+', '-', '*', '/']): Question {
  const op = operations[Math.floor(random() * operations.length)]!;
  const b = 1 + Math.floor(random() * 12);
  const a = op === '/' ? b * (1 + Math.floor(random() * 12)) : 1 + Math.floor(random() * 12);
  const answer = op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b;
  return { text: \`\${a} \${op} \${b}\`, answer };
}

/** Input that is not a number is invalid, not wrong: the learner gets to answer again. */
export function checkAnswer(question: Question, input: string): Check {
  const text = input.trim();
  if (!/^-?\\d+$/.test(text)) return { kind: 'invalid', message: \`"\${text}" is not a whole number; try again.\` };
  return Number(text) === question.answer
    ? { kind: 'correct', message: 'Correct!' }
    : { kind: 'wrong', message: \`Not quite: \${question.text} = \${question.answer}\` };
}

export function score(correct: number, asked: number): string {
  return \`You got \${correct} of \${asked} right (\${asked === 0 ? 0 : Math.round((100 * correct) / asked)}%).\`;
}
`;

const cli = `import { createInterface } from 'node:readline/promises';
import { checkAnswer, makeQuestion, score } from './tutor.ts';

const rounds = Number(process.argv[2] ?? 5);
const lines = createInterface({ input: process.stdin, output: process.stdout });
let correct = 0;
for (let asked = 1; asked <= rounds; asked++) {
  const question = makeQuestion(Math.random);
  for (;;) {
    const result = checkAnswer(question, await lines.question(\`\${question.text} = \`));
    console.log(result.message);
    if (result.kind === 'invalid') continue;
    if (result.kind === 'correct') correct++;
    break;
  }
}
console.log(score(correct, rounds));
lines.close();
`;

const testsV1 = `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAnswer, makeQuestion } from './tutor.ts';

const sequence = (...values: number[]) => () => values.shift() ?? 0;

test('makes an addition question with its answer', () => {
  assert.deepEqual(makeQuestion(sequence(0, 0.5, 0.25), ['+']), { text: '7 + 4', answer: 11 });
});

test('accepts the right answer and explains a wrong one', () => {
  const question = { text: '3 * 4', answer: 12 };
  assert.equal(checkAnswer(question, ' 12 ').correct, true);
  assert.deepEqual(checkAnswer(question, '13'), { correct: false, message: 'Not quite: 3 * 4 = 12' });
});
`;

const testsV2 = `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAnswer, makeQuestion, score } from './tutor.ts';

const sequence = (...values: number[]) => () => values.shift() ?? 0;

test('makes an addition question with its answer', () => {
  assert.deepEqual(makeQuestion(sequence(0, 0.25, 0.5), ['+']), { text: '7 + 4', answer: 11 });
});

test('division questions always have whole-number answers', () => {
  for (let i = 0; i < 200; i++) {
    const question = makeQuestion(Math.random, ['/']);
    assert.ok(Number.isInteger(question.answer), question.text);
  }
});

test('accepts the right answer and explains a wrong one', () => {
  const question = { text: '3 * 4', answer: 12 };
  assert.equal(checkAnswer(question, ' 12 ').kind, 'correct');
  assert.deepEqual(checkAnswer(question, '13'), { kind: 'wrong', message: 'Not quite: 3 * 4 = 12' });
});

test('input that is not a number is invalid, not wrong', () => {
  assert.deepEqual(checkAnswer({ text: '1 + 1', answer: 2 }, 'two'), { kind: 'invalid', message: '"two" is not a whole number; try again.' });
});

test('reports the score', () => {
  assert.equal(score(3, 4), 'You got 3 of 4 right (75%).');
});
`;

const assistantTurns: ScriptedReply[] = [
  {
    text: 'I will write the question logic with tests first.',
    toolCalls: [
      { name: 'write_file', input: { path: 'tutor.ts', content: tutorV1 }, id: 'toolu_w1' },
      { name: 'write_file', input: { path: 'tutor.test.ts', content: testsV1 }, id: 'toolu_w2' },
    ],
  },
  { toolCalls: [{ name: 'run_tests', input: {}, id: 'toolu_t1' }] },
  reply.finish({ result: 'Wrote tutor.ts (makeQuestion for +, - and *, checkAnswer) and tutor.test.ts. Tests: 2 passed, 0 failed.' }),
  {
    text: 'Adding division, invalid-input handling, a score and the command-line loop.',
    toolCalls: [
      { name: 'write_file', input: { path: 'tutor.ts', content: tutorV2 }, id: 'toolu_w3' },
      { name: 'write_file', input: { path: 'tutor.test.ts', content: testsV2 }, id: 'toolu_w4' },
      { name: 'write_file', input: { path: 'cli.ts', content: cli }, id: 'toolu_w5' },
    ],
  },
  { toolCalls: [{ name: 'run_tests', input: {}, id: 'toolu_t2' }] },
  reply.finish({
    result:
      'tutor.ts now has division with whole-number answers, rejects non-numbers as invalid (the learner answers again) and reports a score; cli.ts asks the questions on the terminal. Tests: 5 passed, 0 failed.',
  }),
];
const proxyTurns: ScriptedReply[] = [
  reply.finish(
    {
      message:
        'Please write a TypeScript module for a math tutor: it makes arithmetic questions (addition, subtraction, multiplication) with operands from 1 to 12 and checks answers. Put node:test tests beside it and run them.',
    },
    'reply',
  ),
  reply.finish(
    {
      message:
        'Good start. Still missing: division with whole-number answers; input that is not a number must be rejected with a clear message, not marked wrong; a score at the end; and the command-line program that asks the questions. Keep the tests passing and add tests for these.',
    },
    'reply',
  ),
  reply.finish(
    {
      summary:
        'A command-line math tutor with all four operations, whole-number division, invalid-input handling and a score; its logic is tested and the 5 tests pass.',
    },
    'accept',
  ),
];

const isProxy = (request: ModelRequest) => request.system?.startsWith('You stand in for a user') ?? false;
let assistantIndex = 0;
let proxyIndex = 0;
const author = scriptedModel((request) => (isProxy(request) ? proxyTurns[proxyIndex++] : assistantTurns[assistantIndex++]) ?? 'script ended', {
  id: 'scripted:math-tutor',
});

rmSync('crews/math-tutor/cassette.json', { force: true });
registerModel('math-tutor', author);
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:math-tutor';
delete process.env.ANTHROPIC_API_KEY;
const { runMathTutor } = await import('./run.js');
const result = await runMathTutor();
if (result.status !== 'finished') throw new Error(`authoring did not finish: ${result.stop.reason}`);
