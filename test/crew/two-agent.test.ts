import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, terminalHumanInput, twoAgentCrew, UserProxy } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const code = z.object({ files: z.array(z.string()), testsPass: z.boolean() });

describe('Assistant and UserProxy in conversation', () => {
  it('the proxy rejects the work twice, then accepts', async () => {
    const proxyModel = scriptedModel([
      reply.finish({ message: 'Build a CLI that quizzes additions.' }, 'reply'),
      reply.finish({ message: 'There are no tests. Add tests.' }, 'reply'),
      reply.finish({ message: 'Tests fail. Fix them.' }, 'reply'),
      reply.finish({ summary: 'A quiz CLI with passing tests.' }, 'accept'),
    ]);
    const assistantModel = scriptedModel([
      reply.finish({ files: ['quiz.ts'], testsPass: false }),
      reply.finish({ files: ['quiz.ts', 'quiz.test.ts'], testsPass: false }),
      reply.finish({ files: ['quiz.ts', 'quiz.test.ts'], testsPass: true }),
    ]);
    const chat = twoAgentCrew<z.infer<typeof code>>({
      name: 'tutor',
      assistant: new Agent({ name: 'coder', model: assistantModel, output: code }),
      userProxy: new UserProxy({ goal: 'A command-line math quiz with passing tests.', model: proxyModel }),
    });

    const result = await chat.run();

    expect(result.status).toBe('finished');
    expect(result.output).toEqual({ summary: 'A quiz CLI with passing tests.', result: { files: ['quiz.ts', 'quiz.test.ts'], testsPass: true }, rounds: 3 });
    // The assistant keeps its conversation: round 3 sees rounds 1 and 2.
    const third = assistantModel.calls[2]!.messages;
    expect(third[0]).toMatchObject({ role: 'user', content: 'Build a CLI that quizzes additions.' });
    expect(third.at(-1)).toMatchObject({ role: 'user', content: 'Tests fail. Fix them.' });
    // Only the proxy knows the goal.
    expect(proxyModel.calls[0]!.system).toContain('A command-line math quiz with passing tests.');
    expect(JSON.stringify(assistantModel.calls)).not.toContain('math quiz with passing tests');
    expect(proxyModel.calls[1]!.messages.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('"testsPass": false') });
    expect(result.usage.byAgent.user_proxy!.turns).toBe(4);
    expect(result.usage.byAgent.coder!.turns).toBe(3);
  });

  it('stops after maxRounds when the proxy never accepts, and ends when it declares failure', async () => {
    const endless = twoAgentCrew({
      name: 'c',
      assistant: new Agent({ name: 'a', model: scriptedModel(() => reply.finish({ result: 'try' })) }),
      userProxy: new UserProxy({ goal: 'g', model: scriptedModel(() => reply.finish({ message: 'again' }, 'reply')) }),
      maxRounds: 3,
    });
    const stopped = await endless.run('start');
    expect(stopped.stop).toMatchObject({ kind: 'stopped', condition: 'max-rounds', detail: { limit: 3 } });

    const failing = twoAgentCrew({
      name: 'c',
      assistant: new Agent({ name: 'a', model: scriptedModel([reply.finish({ result: 'cannot' })]) }),
      userProxy: new UserProxy({ goal: 'g', model: scriptedModel([reply.finish({ reason: 'impossible' }, 'fail')]) }),
    });
    const failed = await failing.run('start');
    expect(failed.stop).toMatchObject({ kind: 'failed', condition: 'goal-failed', reason: 'user_proxy declared the goal failed: impossible' });
  });

  it('hands each proxy turn to a person in human input mode', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const shown: string[] = [];
    output.on('data', (chunk) => shown.push(String(chunk)));
    const human = terminalHumanInput({ input, output });
    const chat = twoAgentCrew({
      name: 'c',
      assistant: new Agent({ name: 'a', model: scriptedModel([reply.finish({ result: 'v1' }), reply.finish({ result: 'v2' })]) }),
      userProxy: new UserProxy({ goal: 'g', humanInput: human }),
    });
    const answers = ['Write v1', 'Make it v2', '/accept v2 is right'];
    const feeder = setInterval(() => {
      if (shown.join('').split('> ').length - 1 > 3 - answers.length) input.write(`${answers.shift()}\n`);
      if (answers.length === 0) clearInterval(feeder);
    }, 5);

    const result = await chat.run();
    human.close();

    expect(result.output).toEqual({ summary: 'v2 is right', result: 'v2', rounds: 2 });
    expect(shown.join('')).toContain('The assistant answered:\n\nv1');
  });
});
