// The group chat example through the built CLI (`npm run build` first), as a user runs it.
import { describe, expect, it } from 'vitest';
import type { Message } from 'troupe';
import { exampleCli } from '../support/example-cli.js';

const troupe = exampleCli('incident-room');

interface Result {
  status: string;
  process: string;
  stop: { kind: string; reason: string };
  output: { summary: string; cause: string; fix: string; status_update: string; follow_ups: string[] };
  conversation: Array<{ round: number; speaker: string; message: string }>;
  transcripts: Record<string, Message[]>;
  usage: { byAgent: Record<string, { runs: number }> };
}

const toolCalls = (transcript: Message[]) =>
  transcript.flatMap((m) => (m.role === 'assistant' ? m.content.flatMap((p) => (p.type === 'tool-call' ? [{ name: p.name, input: p.input }] : [])) : []));

describe('crews/incident-room', { timeout: 300_000 }, () => {
  it('runs offline: the commander picks each speaker with a reason, and ends the chat with its finish tool and the report', async () => {
    const result = await troupe('run', 'incident-room', '--json');

    expect(result.stderr).toMatch(/no API key is set: replaying the recorded transcript crews\/incident-room\/cassette.json/);
    // The progress lines give each choice of speaker with its reason.
    expect(result.stderr).toMatch(
      /incident-room: round 1, log_analyst speaks \(Checkout is failing: first we need to know which errors, where, and since when\.\)/,
    );
    expect(result.stderr).toMatch(/incident-room: round 3, log_analyst speaks \(Before we tell customers, check whether anything besides checkout fails/);
    expect(result.status).toBe(0);
    const run = JSON.parse(result.stdout) as Result;
    expect(run).toMatchObject({
      status: 'finished',
      process: 'group-chat',
      stop: { kind: 'finish', reason: 'incident_commander (the manager) ended the chat after 4 rounds' },
    });
    expect(run.conversation.map((m) => `${m.round} ${m.speaker}`)).toEqual(['1 log_analyst', '2 db_expert', '3 log_analyst', '4 comms_writer']);
    // What the responders said came from their tools: the log lines and the pool statistics.
    expect(run.conversation[0]!.message).toMatch(/timeout acquiring a database connection after 5000 ms[\s\S]*deploy v3\.8\.1 started/);
    expect(run.conversation[1]!.message).toMatch(/^The pool is exhausted: 100 of 100 connections in use, 57 waiting\. report-export holds 80 of them/);
    expect(run.conversation[2]!.message).toMatch(/^Payments are affected too: .*Search is not: /);
    expect(toolCalls(run.transcripts.log_analyst!).map((c) => c.name)).toEqual(['search_logs', 'say', 'search_logs', 'say']);
    expect(toolCalls(run.transcripts.db_expert!).map((c) => c.name)).toEqual(['db_stats', 'say']);

    // The commander chose four times with a reason each, then called finish with the report: no member may finish.
    const commander = toolCalls(run.transcripts.incident_commander!);
    expect(commander.map((c) => c.name)).toEqual(['select_speaker', 'select_speaker', 'select_speaker', 'select_speaker', 'finish']);
    for (const choice of commander.slice(0, 4)) expect((choice.input as { reason: string }).reason.length).toBeGreaterThan(20);
    expect(run.usage.byAgent.incident_commander!.runs).toBe(5);
    expect(run.output.cause).toMatch(/report-export job from 10 to 80 workers/);
    expect(run.output.status_update).toBe(run.conversation[3]!.message);
    expect(run.output.follow_ups).toHaveLength(3);
    const memberTools = (run.transcripts.comms_writer!.find((m) => m.role === 'user')!.content as string).match(/Only the manager may end the chat\.$/);
    expect(memberTools).not.toBeNull();
  });

  it('runs by the path of its crew file too', async () => {
    const result = await troupe('run', 'crews/incident-room/crew.yaml', '--quiet');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^incident-room: finished — incident_commander \(the manager\) ended the chat after 4 rounds\n/);
  });
});
