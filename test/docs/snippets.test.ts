// The docs' snippets and CLI transcripts are real runs. Every docs/snippets/*.ts (type-checked by
// `npm run typecheck`, compiled by the build) is run as a reader would run it, offline, and must
// print what its .out file records; every docs/transcripts/*.txt is re-run command by command
// and must print what it records. Random ids, clock times, durations and ports may differ.
// `npm run docs:update` records the new outputs instead (check the diff before committing).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  asReaderSees,
  commandLine,
  compiledSnippet,
  filesUnder,
  formatTranscript,
  newHome,
  normalized,
  offlineEnv,
  parseTranscript,
  randomIdsIn,
  repoRoot,
  runMerged,
  snippetOutputFile,
} from '../support/docs.js';

const updating = process.env.TROUPE_UPDATE_DOCS === '1';
// Files whose name starts with "_" are modules other snippets import, not programs of their own.
const snippets = filesUnder('docs/snippets', (path) => path.endsWith('.ts') && !path.endsWith('.d.ts') && !path.split('/').pop()!.startsWith('_'));
const transcripts = filesUnder('docs/transcripts', (path) => path.endsWith('.txt'));

describe('docs snippets', () => {
  it.runIf(snippets.length > 0).each(snippets)(
    '%s runs offline and prints what its .out file shows',
    async (path) => {
      const home = newHome();
      try {
        const { status, output } = await runMerged(process.execPath, [compiledSnippet(path)], offlineEnv(home));
        const seen = asReaderSees(output, home);
        const outFile = join(repoRoot, snippetOutputFile(path));
        if (updating && status === 0) writeFileSync(outFile, seen);
        // The output in the message: a failure on a busy CI machine must say what the snippet printed.
        expect(status, `${path} exited ${status}, printing:\n${seen}`).toBe(0);
        expect(existsSync(outFile), `${snippetOutputFile(path)} records what ${path} prints`).toBe(true);
        expect(normalized(seen)).toBe(normalized(readFileSync(outFile, 'utf8')));
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

describe('docs transcripts', () => {
  it.runIf(transcripts.length > 0).each(transcripts)(
    '%s prints, command by command, what it records',
    async (path) => {
      const recorded = parseTranscript(readFileSync(join(repoRoot, path), 'utf8'));
      const home = newHome();
      // A later command may name an id an earlier one printed (a review to approve): the recorded id stands for this run's.
      const ids = new Map<string, string>();
      const fresh = [];
      try {
        for (const step of recorded) {
          const command = step.command.replace(/\b[a-z][a-z0-9-]*_[0-9a-z]{16}\b/g, (id) => ids.get(id) ?? id);
          const { program, args } = commandLine(command);
          const { output } = await runMerged(program, args, offlineEnv(home));
          const seen = asReaderSees(output, home);
          fresh.push({ command: updating ? command : step.command, output: seen });
          if (!updating) expect(normalized(seen), `${path}: ${step.command}`).toBe(normalized(step.output));
          const before = randomIdsIn(step.output);
          randomIdsIn(seen).forEach((id, index) => {
            if (before[index]) ids.set(before[index], id);
          });
        }
        if (updating) writeFileSync(join(repoRoot, path), formatTranscript(fresh));
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
