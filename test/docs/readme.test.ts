// The README is the page a newcomer reads first: short, and a map to every page of docs/.
import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markdownPages, repoRoot } from '../support/docs.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

describe('README.md', () => {
  it('is at most 150 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(150);
  });

  it('links to every page of docs/', () => {
    const linked = new Set([...readme.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => normalize(m[1]!)));
    const pages = markdownPages().filter((page) => page.startsWith('docs/'));
    expect(pages.length).toBeGreaterThan(20);
    expect(pages.filter((page) => !linked.has(page))).toEqual([]);
  });
});
