import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exampleCli } from '../support/example-cli.js';

// Every folder of crews/ runs through `troupe run <name>` and by the path of its folder, offline on
// its own cassette. The table says how each one is run and where it stops (DESIGN.md's exit codes:
// 0 done, 3 waiting for a person's review); a new folder without a row fails the first test, so no
// example ships that nobody ran. The examples' own test files check what each run does.
const examples: Record<string, { args: string[]; exit: 0 | 3 }> = {
  'blog-pipeline': { args: [], exit: 0 },
  'draft-review-loop': { args: ['--input', 'crews/draft-review-loop/changes.json'], exit: 3 },
  'incident-room': { args: [], exit: 0 },
  invoices: { args: ['--input', 'crews/invoices/documents.json'], exit: 3 },
  'math-tutor': { args: [], exit: 0 },
  'multi-repo-change': { args: ['--input', 'crews/multi-repo-change/requirements.json'], exit: 3 },
  'pr-merged': { args: ['--trigger', 'crews/pr-merged/events/merged.json'], exit: 0 },
  'release-vote': { args: [], exit: 0 },
  research: { args: [], exit: 0 },
  'research-desk': { args: ['--trigger', 'crews/research-desk/trigger.json'], exit: 0 },
  'shopify-promoter': { args: ['--input', 'crews/shopify-promoter/storefronts.json'], exit: 3 },
  'webpage-report': { args: ['--input', 'crews/webpage-report/pages.json'], exit: 0 },
  website: { args: [], exit: 0 },
};

const runs = Object.entries(examples).flatMap(([name, example]) => [
  { how: 'by name', target: name, name, ...example },
  { how: 'by path', target: `crews/${name}`, name, ...example },
]);

describe('every example in crews/', () => {
  it('has a row in this table', () => {
    const folders = readdirSync('crews', { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.sort()).toEqual(Object.keys(examples).sort());
  });

  it.concurrent.each(runs)(
    '$name runs $how, offline on its cassette',
    async ({ target, name, args, exit }) => {
      // A home of its own per run: the two runs of one example go on at once.
      const run = await exampleCli(name)('run', target, ...args, '--json', '--quiet');
      expect(run.stderr).toContain(`crews/${name}/cassette.json`);
      expect(run.status, run.stderr).toBe(exit);
      expect(() => JSON.parse(run.stdout), run.stdout.slice(0, 200)).not.toThrow();
    },
    180_000,
  );
});
