// #region chat
import { z } from 'zod';
import { Agent, groupChatCrew } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const say = (message: string) => reply.toolCall('say', { message });
const member = (name: string, description: string, lines: string[]) => new Agent({ name, description, role: name, model: scriptedModel(lines.map(say)) });

const chat = groupChatCrew({
  name: 'incident',
  agents: [
    member('log_analyst', 'Reads the application logs.', [
      'Checkout returns 500 since 09:12: "too many connections" from the orders database.',
      'Only checkout: search and login are fine.',
    ]),
    member('db_expert', 'Knows the database.', ['Connections are at the pool limit of 100; a deploy at 09:10 raised workers from 4 to 12.']),
    member('comms_writer', 'Writes the status-page update.', ['Checkout is failing for some customers; a fix is being rolled out.']),
  ],
  // The manager picks every speaker, with a reason, and ends the chat itself.
  selector: {
    manager: {
      name: 'incident_commander',
      instructions: 'You run the incident.',
      model: scriptedModel([
        reply.toolCall('select_speaker', { speaker: 'log_analyst', reason: 'we need to know what fails' }),
        reply.toolCall('select_speaker', { speaker: 'db_expert', reason: 'the errors point at the database' }),
        reply.toolCall('select_speaker', { speaker: 'log_analyst', reason: 'check what else is affected' }),
        reply.toolCall('select_speaker', { speaker: 'comms_writer', reason: 'customers need an update' }),
        reply.finish({ cause: 'pool exhausted after the 09:10 deploy', fix: 'roll back to 4 workers' }),
      ]),
    },
  },
  managerFinishes: true, // no member finishes unless `finishers` names it
  output: z.object({ cause: z.string(), fix: z.string() }),
  maxRounds: 8,
});

const result = await chat.run('Checkout is failing.', {
  trace: (event) => {
    if (event.type === 'speaker-select') console.log(`round ${event.round}: ${event.speaker} (${event.method}: ${event.reason})`);
  },
});
for (const { speaker, message } of result.conversation) console.log(`${speaker}: ${message}`);
console.log(result.stop.reason);
console.log(result.output);
// #endregion
