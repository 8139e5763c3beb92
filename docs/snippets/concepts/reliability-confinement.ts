// A trigger's files come from outside: each path is checked where it really leads.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Handler, defineConfiguration } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';

// #region confinement
const root = mkdtempSync(join(tmpdir(), 'uploads-'));
mkdirSync(join(root, 'tickets'));
writeFileSync(join(root, 'tickets', 'T-1.txt'), 'The export button does nothing.');
symlinkSync('/etc', join(root, 'tickets', 'etc')); // a link under the root that leads out of it

const configuration = defineConfiguration({ name: 'reader', trigger: { kind: 'manual' }, prompt: 'Read the files.' });
const names = ['ticket', 'absolute', 'file-url', 'upwards', 'symlink'];
const model = scriptedModel([reply.toolCalls(...names.map((name) => ({ name: 'read_file', input: { name } }))), reply.finish({ answer: 'done' })]);
const handler = new Handler({ configurations: [configuration], tools: [], fileRoot: root, model });
const outcome = await handler.handle({
  kind: 'manual',
  id: 'upload-1',
  data: {},
  files: [
    { name: 'ticket', uri: 'tickets/T-1.txt' },
    { name: 'absolute', uri: '/etc/passwd' },
    { name: 'file-url', uri: 'file:///etc/passwd' },
    { name: 'upwards', uri: '../../etc/passwd' },
    { name: 'symlink', uri: 'tickets/etc/passwd' },
  ],
});
// The calls ran at once; print them in the order they were made.
for (const name of names) {
  const call = outcome.toolCalls.find((each) => (each.input as { name: string }).name === name);
  console.log(`${name}: ${call?.output}`);
}
// #endregion
rmSync(root, { recursive: true, force: true });
