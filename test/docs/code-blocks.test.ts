// Every code block in README.md and docs/ shows a real file: the marker before it names the file
// (or a region of it), the block equals that text, and the file is one the suite compiles and
// runs. A block typed into the Markdown by hand, or left behind when its file changed, fails here.
// `npm run docs:update` rewrites the blocks from their files.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CodeBlock, codeBlocks, filesUnder, includedText, markdownPages, repoRoot } from '../support/docs.js';

const updating = process.env.TROUPE_UPDATE_DOCS === '1';
const pages = markdownPages();

/** Text the suite runs that may name a data file: every snippet and every transcript's commands. */
const runnersText = [...filesUnder('docs/snippets', (path) => path.endsWith('.ts')), ...filesUnder('docs/transcripts', (path) => path.endsWith('.txt'))]
  .map((path) => readFileSync(join(repoRoot, path), 'utf8'))
  .join('\n');

/**
 * Why a file shown in the docs is not one the suite compiles and runs, or undefined when it is.
 * Snippets (docs/snippets/*.ts) are type-checked and each run by test/docs/snippets.test.ts, which
 * also compares their recorded output (.out) and re-runs every transcript (docs/transcripts/*.txt).
 * crews/, agents/, tools/ and examples/ are type-checked and run by the example tests. A data file
 * under docs/snippets/ must be used by a snippet or a transcript.
 */
function notRun(path: string): string | undefined {
  if (/^(crews|agents|tools|examples)\//.test(path)) return undefined;
  if (/^docs\/snippets\/.+\.(ts|out)$/.test(path)) return undefined;
  if (/^docs\/transcripts\/.+\.txt$/.test(path)) return undefined;
  if (path.startsWith('docs/snippets/')) {
    const name = path.slice('docs/snippets/'.length);
    return runnersText.includes(name.split('/').pop()!) ? undefined : `no snippet or transcript uses ${path}`;
  }
  return `${path} is not a file the suite runs: show a snippet (docs/snippets/), a transcript (docs/transcripts/), or a file of crews/, agents/, tools/ or examples/`;
}

describe('code blocks in README.md and docs/', () => {
  it('finds the pages', () => {
    expect(pages).toContain('README.md');
  });

  it.each(pages)('every code block of %s shows a real file the suite runs, exactly', (page) => {
    const text = readFileSync(join(repoRoot, page), 'utf8');
    const problems: string[] = [];
    const replacements: Array<{ block: CodeBlock; text: string }> = [];
    for (const block of codeBlocks(page, text)) {
      const where = `${page}:${block.line}`;
      if (!block.source) {
        problems.push(`${where}: a code block without a "<!-- file: path -->" marker before it`);
        continue;
      }
      const { path, region } = block.source;
      if (!existsSync(join(repoRoot, path))) {
        problems.push(`${where}: the marker names ${path}, which does not exist`);
        continue;
      }
      const why = notRun(path);
      if (why) problems.push(`${where}: ${why}`);
      let expected: string;
      try {
        expected = includedText(path, region);
      } catch (error) {
        problems.push(`${where}: ${(error as Error).message}`);
        continue;
      }
      if (block.content === expected) continue;
      if (updating) replacements.push({ block, text: expected });
      else problems.push(`${where}: the block differs from ${path}${region ? `#${region}` : ''} (run npm run docs:update)`);
    }
    if (replacements.length > 0) {
      let updated = text;
      for (const { block, text: replacement } of replacements.reverse()) {
        updated = updated.slice(0, block.contentStart) + replacement + updated.slice(block.contentEnd);
      }
      writeFileSync(join(repoRoot, page), updated);
    }
    expect(problems).toEqual([]);
  });

  it.each(pages)('every relative link of %s leads to a file', (page) => {
    const text = readFileSync(join(repoRoot, page), 'utf8');
    const dir = page.includes('/') ? page.slice(0, page.lastIndexOf('/')) : '.';
    const broken = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1]!)
      .filter((target) => !/^[a-z]+:/.test(target) && !target.startsWith('#'))
      .filter((target) => !existsSync(join(repoRoot, dir, decodeURI(target.split('#')[0]!))));
    expect(broken).toEqual([]);
  });
});
