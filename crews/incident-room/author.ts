// Writes crews/incident-room/cassette.json, the transcript `troupe run incident-room` replays
// without a key. A scripted model plays the incident commander (the chat's manager) and the three
// responders, telling them apart by their system message (its model id says
// `scripted:incident-room`); search_logs and db_stats really run, and what the responders say is
// built from what the tools returned. The commander names each speaker with a reason, sends the log
// analyst back once to check what else is affected, and ends the chat with finish and the report.
// To record live instead: delete the cassette and run the crew with TROUPE_RECORD=1,
// TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 and ANTHROPIC_API_KEY.
// Run: npm run build && node dist/crews/incident-room/author.js
import { rmSync } from 'node:fs';
import { loadCrew, type Message, type ModelRequest } from 'troupe';
import { registerModel, scriptedModel, type ScriptedReply } from 'troupe/testing';
import { withUsage } from '../estimated-usage.js';
import tools, { type dbStats } from './tools.js';

const cassette = 'crews/incident-room/cassette.json';

const turnOf = (messages: readonly Message[]) => messages.filter((m) => m.role === 'assistant').length;
const firstUser = (messages: readonly Message[]) => (messages[0]?.role === 'user' ? messages[0].content : '');
const lastToolOutput = (messages: readonly Message[]) => {
  const last = messages.at(-1);
  return last?.role === 'tool' ? (last.content[0]?.output ?? '') : '';
};
const call = (name: string, input: unknown, text?: string): ScriptedReply => ({ ...(text ? { text } : {}), toolCalls: [{ name, input }] });
/** The messages of the conversation so far, by speaker, as the prompt shows them. */
function spoken(prompt: string): Array<{ speaker: string; message: string }> {
  const section = (prompt.split('## Conversation so far\n')[1] ?? '').split(/\n\n(?:It is your turn|Who should speak next)/)[0]!;
  if (section.startsWith('Nobody has spoken yet.')) return [];
  return section.split(/\n\n(?=### )/).map((part) => {
    const [heading, ...body] = part.split('\n');
    return { speaker: heading!.replace(/^### /, ''), message: body.join('\n') };
  });
}

function commander(request: ModelRequest): ScriptedReply {
  const said = spoken(firstUser(request.messages));
  const select = (speaker: string, reason: string) => call('select_speaker', { speaker, reason });
  switch (said.length) {
    case 0:
      return select('log_analyst', 'Checkout is failing: first we need to know which errors, where, and since when.');
    case 1:
      return select('db_expert', 'The errors are timeouts acquiring database connections: the database engineer should say what holds the pool.');
    case 2:
      return select('log_analyst', 'Before we tell customers, check whether anything besides checkout fails, so the update names everything affected.');
    case 3:
      return select('comms_writer', 'We know the cause, the fix and what is affected: customers need a status update now.');
    default: {
      const update = said.find((m) => m.speaker === 'comms_writer')?.message;
      if (!update) throw new Error('the script expected a status update before finishing');
      return call(
        'finish',
        {
          summary: 'From 14:02 checkout and payment confirmations timed out waiting for database connections; 38% of checkouts failed.',
          cause:
            'Deploy v3.8.1 raised the report-export job from 10 to 80 workers; at 14:00 it took 80 of the 100 database connections with full-scan queries, starving checkout and payments.',
          fix: 'Pause report-export now and revert its concurrency to 10; checkout recovers as its connections are released.',
          status_update: update,
          follow_ups: [
            'Give report-export its own connection pool (or a read replica), capped well below the checkout pool',
            'Alert on database pool saturation, not only on the checkout error rate',
            'Have the database owner review concurrency changes to batch jobs, as for schema changes',
          ],
        },
        'The cause is found, a fix is recommended, and customers have an update: closing the incident with the report.',
      );
    }
  }
}

function logAnalyst(request: ModelRequest): ScriptedReply {
  const secondLook = spoken(firstUser(request.messages)).some((m) => m.speaker === 'db_expert');
  if (turnOf(request.messages) === 0)
    return secondLook
      ? call('search_logs', { words: ['payments', 'search'] }, 'Checking the other services in the logs.')
      : call('search_logs', { words: ['error', 'warn', 'deploy'] }, 'Searching the logs for errors and warnings.');
  const lines = JSON.parse(lastToolOutput(request.messages)) as string[];
  const message = secondLook
    ? `Payments are affected too: ${lines.find((l) => l.includes('payments'))}. Search is not: ${lines.find((l) => l.includes('search'))}.`
    : `Checkout fails since 14:02 with database connection timeouts: "${lines.find((l) => l.includes('ERROR'))}". ` +
      `It began right after a deploy: "${lines.find((l) => l.includes('deploy'))}". The error rate: "${lines.find((l) => l.includes('error rate'))}".`;
  return call('say', { message });
}

function dbExpert(request: ModelRequest): ScriptedReply {
  if (turnOf(request.messages) === 0) return call('db_stats', {}, 'Reading the connection pool.');
  const stats = JSON.parse(lastToolOutput(request.messages)) as typeof dbStats;
  const [heaviest, count] = Object.entries(stats.connectionsByClient).sort((a, b) => b[1] - a[1])[0]!;
  const query = stats.longestQueries[0]!;
  return call('say', {
    message:
      `The pool is exhausted: ${stats.pool.inUse} of ${stats.pool.max} connections in use, ${stats.pool.waiting} waiting. ${heaviest} holds ${count} of them, ` +
      `with full scans running for ${query.runningFor}; checkout has only ${stats.connectionsByClient.checkout}. That matches the deploy's change to report-export concurrency (10 → 80). ` +
      'Pause report-export and set its concurrency back to 10: the connections come back as its queries end.',
  });
}

function commsWriter(): ScriptedReply {
  return call('say', {
    message:
      'Investigating — Since 14:02 UTC some checkouts and payment confirmations are failing. We have found the cause, a background job overloading our database, and are stopping it now. Browsing and search are not affected. Next update in 30 minutes.',
  });
}

function play(request: ModelRequest): ScriptedReply {
  const system = request.system ?? '';
  if (system.startsWith('You are the incident commander.')) return commander(request);
  if (system.startsWith('You are Log analyst.')) return logAnalyst(request);
  if (system.startsWith('You are Database engineer.')) return dbExpert(request);
  if (system.startsWith('You are Incident communications writer.')) return commsWriter();
  throw new Error(`no one plays the system message "${system.slice(0, 60)}…"`);
}

rmSync(cassette, { force: true });
registerModel(
  'incident-room',
  scriptedModel((request) => withUsage(request, play(request)), { id: 'scripted:incident-room' }),
);
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:incident-room';
const crew = loadCrew('crews/incident-room/crew.yaml', { tools: tools() });
const result = await crew.run(undefined, { model: `replay:${cassette}` });
if (result.status !== 'finished') throw new Error(`authoring did not finish: ${result.stop.reason}`);
console.log(`incident-room ${result.status}: ${result.stop.reason}`);
