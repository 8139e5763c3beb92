// Writes the cassettes the examples replay when no API key is set. They are authored with the
// scripted model (their recorded model id says `scripted:...`), not captured from a vendor; to
// replace one with a live recording, delete it and run the example with
//   TROUPE_RECORD=1 TROUPE_RECORD_MODEL=anthropic:claude-sonnet-5-5 ANTHROPIC_API_KEY=... npm start
// Run: npm run build && node dist/examples/cassettes/author.js
import { rmSync } from 'node:fs';
import { registerModel } from 'troupe/testing';
import { reply, scriptedModel } from 'troupe/testing';

const quickstart = scriptedModel(
  [
    { text: 'Let me look that order up.', toolCalls: [{ name: 'lookup_order', input: { orderId: 'A-1001' }, id: 'toolu_01' }] },
    reply.finish({
      orderId: 'A-1001',
      status: 'shipped',
      reply: 'Your order A-1001 has shipped with DHL and should arrive on 24 November 2026.',
    }),
  ],
  { id: 'scripted:quickstart' },
);

rmSync('examples/cassettes/quickstart.json', { force: true });
registerModel('quickstart', quickstart);
process.env.TROUPE_RECORD = '1';
process.env.TROUPE_RECORD_MODEL = 'scripted:quickstart';
delete process.env.ANTHROPIC_API_KEY;
await import('../quickstart.js');
