import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { codeTask, defineWorkflow, type WorkItemInput } from 'troupe';
import { fileToItemOf, watchedFolder, watchFolder } from '../../src/cli/watch-folder.js';

const workflow = defineWorkflow({
  name: 'echo',
  input: z.object({ text: z.string() }),
  tasks: [codeTask({ name: 'echo', input: z.object({ text: z.string() }), output: z.string(), run: ({ text }) => text })],
});

/** Collects what the watch yields and notes, and lets a test wait for a count of them without timing anything. */
function watching(folder: string, toItem: (path: string) => WorkItemInput<unknown> | undefined, taken: string[] = []) {
  const stop = new AbortController();
  const items: WorkItemInput<unknown>[] = [];
  const notes: string[] = [];
  const waiters: Array<() => void> = [];
  const changed = () => {
    for (const wake of waiters.splice(0)) wake();
  };
  const done = (async () => {
    for await (const item of watchFolder(folder, toItem, {
      signal: stop.signal,
      pollMs: 20,
      taken,
      onFile: ({ file, skipped }) => {
        if (skipped) notes.push(`${file.slice(folder.length + 1)}: ${skipped}`);
        changed();
      },
    })) {
      items.push(item);
      changed();
    }
  })();
  const until = async (ready: () => boolean) => {
    while (!ready()) await new Promise<void>((wake) => waiters.push(wake));
  };
  return { items, notes, until, stop: () => (stop.abort(), done) };
}

describe('watchFolder', () => {
  it('yields the files already there, then new ones, each once; ends when told', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'watch-'));
    writeFileSync(join(folder, 'a.json'), JSON.stringify({ text: 'first' }));
    const watch = watching(folder, (path) => (path.endsWith('.json') ? { input: path } : undefined));
    await watch.until(() => watch.items.length === 1);
    writeFileSync(join(folder, '.hidden.json.tmp'), '{}');
    writeFileSync(join(folder, 'b.json.part'), '{}');
    writeFileSync(join(folder, '.b.json.tmp'), '{}');
    renameSync(join(folder, '.b.json.tmp'), join(folder, 'b.json'));
    writeFileSync(join(folder, 'notes.txt'), 'hello');
    await watch.until(() => watch.items.length === 2 && watch.notes.length === 1);
    writeFileSync(join(folder, 'a.json'), JSON.stringify({ text: 'changed later' })); // taken once: not again
    writeFileSync(join(folder, 'c.json'), '{}');
    await watch.until(() => watch.items.length === 3);
    await watch.stop();
    expect(watch.items.map((item) => item.id)).toEqual(['a', 'b', 'c']);
    expect(watch.notes).toEqual(['notes.txt: not an item of this workflow']);
  });

  it('passes over ids that are taken or unusable, and files whose conversion throws', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'watch-'));
    for (const name of ['x.json', 'y.json', 'z.json', 'w.json', 'v.json']) writeFileSync(join(folder, name), '{}');
    const ids: Record<string, string | undefined> = { 'v.json': 'from-input', 'w.json': '../escape', 'x.json': 'same', 'y.json': 'same' };
    const watch = watching(
      folder,
      (path) => {
        const name = path.slice(folder.length + 1);
        if (name === 'z.json') throw new Error('it is not JSON');
        const id = ids[name];
        return id ? { id, input: {} } : { input: {} };
      },
      ['from-input'],
    );
    await watch.until(() => watch.items.length + watch.notes.length === 5);
    await watch.stop();
    expect(watch.items.map((item) => item.id)).toEqual(['same']);
    expect(watch.notes).toEqual([
      'v.json: its item id "from-input" is taken by --input',
      'w.json: its item id "../escape" is not usable: letters, digits and _ . - @ + =, at most 60',
      'y.json: its item id "same" is taken by x.json',
      'z.json: it is not JSON',
    ]);
  });
});

describe('fileToItemOf', () => {
  it("uses the module's itemFromFile, else one JSON input per file, and checks the input against the workflow", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'watch-module-'));
    const plain = join(folder, 'plain.mjs');
    writeFileSync(plain, 'export default {};\n');
    const fromJson = await fileToItemOf(plain, workflow);
    writeFileSync(join(folder, 'one.json'), JSON.stringify({ text: 'hi' }));
    writeFileSync(join(folder, 'two.json'), JSON.stringify({ id: 'named', input: { text: 'there' } }));
    writeFileSync(join(folder, 'bad.json'), JSON.stringify({ words: 'no text' }));
    expect(fromJson(join(folder, 'one.json'))).toEqual({ input: { text: 'hi' } });
    expect(fromJson(join(folder, 'two.json'))).toEqual({ id: 'named', input: { text: 'there' } });
    expect(fromJson(join(folder, 'page.html'))).toBeUndefined();
    expect(() => fromJson(join(folder, 'bad.json'))).toThrow(/does not fit the input of workflow "echo"/);

    const own = join(folder, 'own.mjs');
    writeFileSync(own, "export function itemFromFile(path) { return path.endsWith('.txt') ? { input: { text: path } } : undefined; }\n");
    const fromOwn = await fileToItemOf(own, workflow);
    expect(fromOwn(join(folder, 'a.txt'))).toEqual({ input: { text: join(folder, 'a.txt') } });
    expect(fromOwn(join(folder, 'one.json'))).toBeUndefined();

    const wrong = join(folder, 'wrong.mjs');
    writeFileSync(wrong, 'export const itemFromFile = 42;\n');
    await expect(fileToItemOf(wrong, workflow)).rejects.toThrow(/"itemFromFile" export must be a function/);
    await expect(fileToItemOf(join(folder, 'missing.mjs'), workflow)).rejects.toThrow(/could not be loaded/);
    expect(() => watchedFolder(join(folder, 'missing'))).toThrow(/--watch needs a folder that exists/);
  });
});
