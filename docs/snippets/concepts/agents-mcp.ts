import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Agent, connectMcpServer } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

const server = fileURLToPath(new URL('./_mcp-notes-server.js', import.meta.url));

// #region mcp
const notes = await connectMcpServer({
  name: 'notes',
  transport: { command: process.execPath, args: [server] }, // or { url: 'http://…/mcp', headers }
  prefix: 'notes', // search becomes notes_search
  needsApproval: { forget: true }, // by the tool's name on the server
});
for (const tool of notes.tools) console.log(`${tool.name}: ${tool.description} (${tool.sideEffects})`);

const researcher = new Agent({
  name: 'researcher',
  instructions: 'Answer from the notes.',
  tools: [...notes.tools],
  output: z.object({ answer: z.string() }),
  model: scriptedModel([
    reply.toolCall('notes_search', { word: 42 }), // checked against the server's schema: never sent
    reply.toolCall('notes_search', { word: 'bridge' }),
    reply.finish({ answer: 'It opens on 3 March, 6 million euros over budget.' }),
  ]),
});
try {
  const result = await researcher.run('When does the bridge open?');
  for (const message of result.transcript) if (message.role === 'tool') console.log(message.content[0]?.output);
} finally {
  await notes.close(); // ends the server's process
}
// #endregion
