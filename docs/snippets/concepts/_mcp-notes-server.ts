// A small MCP server over stdio, started by agents-mcp.ts: any MCP server works the same way.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const notes: Record<string, string> = {
  bridge: 'The new bridge opens on 3 March.',
  budget: 'The bridge cost 41 million euros, 6 over budget.',
};

const server = new McpServer({ name: 'notes', version: '1.0.0' });
server.registerTool(
  'search',
  { description: 'Finds the notes that mention a word.', inputSchema: { word: z.string() }, annotations: { readOnlyHint: true } },
  async ({ word }) => ({
    content: [{ type: 'text', text: JSON.stringify(Object.values(notes).filter((note) => note.toLowerCase().includes(word.toLowerCase()))) }],
  }),
);
server.registerTool('forget', { description: 'Deletes a note.', inputSchema: { id: z.string() } }, async ({ id }) => {
  delete notes[id];
  return { content: [{ type: 'text', text: `deleted ${id}` }] };
});
await server.connect(new StdioServerTransport());
