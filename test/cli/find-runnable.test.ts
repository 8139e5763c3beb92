import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findRunnable, runnablesIn } from '../../src/cli/find-runnable.js';
import { ConfigurationError } from '../../src/core/errors/configuration-error.js';
import { DefinitionFileError } from '../../src/core/errors/definition-file-error.js';

const repository = process.cwd();

function write(root: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

function failure(target: string): ConfigurationError {
  try {
    findRunnable(target);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error(`findRunnable("${target}") found something`);
}

describe('findRunnable in a project', () => {
  let project: string;
  beforeEach(() => {
    project = mkdtempSync(join(tmpdir(), 'troupe-find-'));
    write(project, {
      'crews/tutor/crew.yaml': 'name: tutor\nprocess: sequential\nagents: [helper]\n',
      'crews/tutor/handler.yaml': 'name: on-push\ntrigger: { kind: event, source: git }\nprompt: hi\n',
      'crews/plain/workflow.js': 'export default {};\n',
      'crews/typed/workflow.ts': 'export default {};\n',
      'dist/crews/typed/workflow.js': 'export default {};\n',
      'crews/site/graph.ts': 'export default {};\n',
      'dist/crews/site/graph.js': 'export default {};\n',
      'crews/react/react.yaml': 'name: react\ntrigger:\n  kind: event\n  source: chat\nprompt: react\n',
      'crews/react/notes.yaml': 'just: data\n',
      'crews/empty/README.md': 'nothing to run\n',
      'agents/helper.yaml': 'name: helper\ninstructions: Help.\n',
      'agents/broken.yaml': 'name: [\n',
      'notes.txt': 'text\n',
    });
    process.chdir(project);
  });
  afterEach(() => process.chdir(repository));

  it('finds each kind by name: crews/<name> (crew file first, then workflow, graph, configuration), then agents/<name>.yaml', () => {
    expect(findRunnable('tutor')).toEqual({ kind: 'crew', file: 'crews/tutor/crew.yaml', home: 'crews/tutor' });
    expect(findRunnable('plain')).toEqual({ kind: 'workflow', file: 'crews/plain/workflow.js', home: 'crews/plain' });
    // A TypeScript module runs compiled; its data stays in its source folder.
    expect(findRunnable('typed')).toEqual({ kind: 'workflow', file: 'dist/crews/typed/workflow.js', home: 'crews/typed' });
    expect(findRunnable('site')).toEqual({ kind: 'graph', file: 'dist/crews/site/graph.js', home: 'crews/site' });
    expect(findRunnable('react')).toEqual({ kind: 'handler', file: 'crews/react/react.yaml', home: 'crews/react' });
    expect(findRunnable('helper')).toEqual({ kind: 'role', file: 'agents/helper.yaml', home: 'agents' });
  });

  it('finds each kind by path: a folder (with or without its slash), a definition file by its top-level fields, a .ts source, a compiled .js', () => {
    expect(findRunnable('crews/tutor')).toMatchObject({ kind: 'crew', file: 'crews/tutor/crew.yaml' });
    expect(findRunnable('crews/tutor/')).toMatchObject({ kind: 'crew', file: 'crews/tutor/crew.yaml' });
    expect(findRunnable('./crews/typed')).toMatchObject({ kind: 'workflow', file: 'dist/crews/typed/workflow.js', home: 'crews/typed' });
    expect(findRunnable('crews/tutor/crew.yaml')).toMatchObject({ kind: 'crew' });
    expect(findRunnable('crews/tutor/handler.yaml')).toMatchObject({ kind: 'handler' });
    expect(findRunnable('agents/helper.yaml')).toMatchObject({ kind: 'role', home: 'agents' });
    expect(findRunnable('crews/typed/workflow.ts')).toEqual({ kind: 'workflow', file: 'dist/crews/typed/workflow.js', home: 'crews/typed' });
    expect(findRunnable('crews/site/graph.ts')).toMatchObject({ kind: 'graph', file: 'dist/crews/site/graph.js' });
    expect(findRunnable('dist/crews/typed/workflow.js')).toEqual({ kind: 'workflow', file: 'dist/crews/typed/workflow.js', home: 'crews/typed' });
    expect(findRunnable(join(project, 'crews/plain'))).toMatchObject({ kind: 'workflow', file: join(project, 'crews/plain/workflow.js') });
  });

  it('lists everything a folder holds, in the order troupe run prefers', () => {
    expect(runnablesIn('crews/tutor').map((found) => [found.kind, found.file])).toEqual([
      ['crew', 'crews/tutor/crew.yaml'],
      ['handler', 'crews/tutor/handler.yaml'],
    ]);
    expect(runnablesIn('crews/react').map((found) => found.file)).toEqual(['crews/react/react.yaml']);
    expect(runnablesIn('crews/empty')).toEqual([]);
  });

  it('names every place it looked when nothing is found (exit 2)', () => {
    const missing = failure('nope');
    expect(missing.exitCode).toBe(2);
    expect(missing.message).toContain('nothing to run named "nope": looked for crews/nope/crew.yaml, crews/nope/crew.yml, crews/nope/crew.json');
    for (const place of ['crews/nope/workflow.js', 'dist/crews/nope/workflow.js', 'crews/nope/graph.js', 'dist/crews/nope/graph.js', 'agents/nope.yaml']) {
      expect(missing.message).toContain(place);
    }
    expect(failure('crews/empty').message).toContain('looked for crews/empty/crew.yaml');
    expect(failure('crews/typed/missing.ts').message).toContain('looked for dist/crews/typed/missing.js');
    expect(failure('crews/none/crew.yaml').message).toContain('looked for crews/none/crew.yaml');
    expect(failure('notes.txt').message).toMatch(/notes.txt is neither a crew, role or handler configuration file .* nor a module/);
  });

  it('reports a broken definition file given by its path with its line', () => {
    expect(() => findRunnable('agents/broken.yaml')).toThrow(DefinitionFileError);
    expect(() => findRunnable('agents/broken.yaml')).toThrow(/agents\/broken.yaml:\d+/);
  });
});

describe("findRunnable on this repository's crews", () => {
  // Every folder of crews/ is runnable by its name and by its path (dist/ is built by the test setup).
  const folders = readdirSync('crews').filter((name) => statSync(join('crews', name)).isDirectory());

  it.each(folders)('crews/%s is found by name and by path, as the same thing', (folder) => {
    const byName = findRunnable(folder);
    expect(['crew', 'workflow', 'graph', 'handler']).toContain(byName.kind);
    expect(findRunnable(`crews/${folder}`)).toEqual({ ...byName, home: `crews/${folder}` });
  });

  it('knows what each of today’s examples is', () => {
    expect(findRunnable('math-tutor')).toMatchObject({ kind: 'crew', file: 'crews/math-tutor/crew.yaml' });
    expect(findRunnable('research')).toMatchObject({ kind: 'crew', file: 'crews/research/crew.yaml' });
    expect(findRunnable('invoices')).toMatchObject({ kind: 'workflow', file: 'dist/crews/invoices/workflow.js', home: 'crews/invoices' });
    expect(findRunnable('website')).toMatchObject({ kind: 'graph', file: 'dist/crews/website/graph.js', home: 'crews/website' });
    expect(findRunnable('agents/code-assistant.yaml')).toMatchObject({ kind: 'role' });
  });
});
