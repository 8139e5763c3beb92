import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import { defaultModel } from '../../model/default-model.js';
import { type OwnPackage, ownPackage } from '../package-root.js';

/**
 * `troupe init [dir]`: a new project in an empty (or new) folder — package.json, tsconfig, a role
 * in agents/, a crew with one tool, and a vitest test that runs the crew on a scripted model, so
 * `npm install && npm test` passes without a key. A folder with files in it is refused unless
 * `--force` (which overwrites only the files init writes).
 */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('Create a project: package.json, tsconfig, a role, a crew with a tool, and a test on a scripted model')
    .argument('[dir]', 'the folder to create it in (default: the current folder)', '.')
    .option('--force', 'write into a folder that is not empty (files of the same name are overwritten)')
    .option('--troupe <spec>', 'the dependency on troupe in package.json (default: this checkout as file:<path>, or ^<version> when installed)')
    .action((dir: string, flags: { force?: boolean; troupe?: string }) => {
      const target = resolve(dir);
      const files = scaffold(basename(target), flags.troupe ?? troupeDependency());
      if (existsSync(target) && readdirSync(target).length > 0 && !flags.force) {
        throw new ConfigurationError(`${target} is not empty: run troupe init in an empty folder, or pass --force to write into it`, {
          field: 'dir',
        });
      }
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(target, path)), { recursive: true });
        writeFileSync(join(target, path), text);
      }
      const where = dir === '.' ? '' : `cd ${dir} && `;
      process.stdout.write(
        `Created a Troupe project in ${target}:\n${Object.keys(files)
          .map((path) => `  ${path}`)
          .join('\n')}\n` +
          `Next: ${where}npm install && npm test   (offline, on a scripted model)\n` +
          `Then, with ANTHROPIC_API_KEY set: npm run build && npx troupe run words --request "the quick brown fox"\n`,
      );
    });
}

/**
 * What the new project depends on. Run from a checkout (its sources are beside it), the project
 * uses that checkout (`file:`), so a change to Troupe can be tried in a new project before it is
 * published; run from an installed package, the published version range.
 */
export function troupeDependency(own: OwnPackage = ownPackage): string {
  return existsSync(join(own.root, 'src', 'index.ts')) ? `file:${own.root}` : `^${own.version}`;
}

/** The files of a new project, by path. */
export function scaffold(folderName: string, troupe: string, own: OwnPackage = ownPackage): Record<string, string> {
  const name =
    folderName
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[._-]+/, '') || 'troupe-project';
  const version = (pkg: string, fallback: string) => own.dependencies[pkg] ?? own.devDependencies[pkg] ?? fallback;
  const packageJson = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { build: 'tsc', test: 'vitest run' },
    dependencies: { troupe, zod: version('zod', '^4') },
    devDependencies: { '@types/node': version('@types/node', '^20'), typescript: version('typescript', '~5.9'), vitest: version('vitest', '^3') },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: true,
      types: ['node'],
      rootDir: '.',
      outDir: 'dist',
    },
    // The crews compile to dist/crews/<name>/, where `troupe run` finds their tools.
    include: ['crews/**/*.ts'],
  };
  return {
    'package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    '.gitignore': 'node_modules/\ndist/\n',
    'agents/assistant.yaml': `# A role: who the agent is, what it may use and which model it runs on. Crews name it.
name: assistant
description: Answers questions about a text, counting with a tool instead of by eye.
role: Writing assistant
goal: Answer exactly about the text you are given.
backstory: >
  You count words with the count_words tool, never by eye, and say what you found in one sentence.
tools: [count_words]
model: ${defaultModel}
max_turns: 6
`,
    'crews/words/crew.yaml': `# A sequential crew of one task. \`npx troupe run words --request "..."\` runs it (after npm run build).
name: words
description: Counts the words of a text and comments on its length.
process: sequential
agents: [assistant]
tasks:
  - name: count
    agent: assistant
    description: Count the words of the text in the request with count_words, then comment on its length in one sentence.
    expected_output:
      schema:
        type: object
        required: [words, comment]
        additionalProperties: false
        properties:
          words: { type: integer, minimum: 0 }
          comment: { type: string, minLength: 1 }
`,
    'crews/words/tools.ts': `// The words crew's tools. \`troupe run words\` loads the default export (compiled to dist/crews/words/tools.js).
import { defineTool } from 'troupe';
import { z } from 'zod';

export const countWords = defineTool({
  name: 'count_words',
  description: 'Counts the words of a text.',
  input: z.object({ text: z.string().describe('The text to count') }),
  run: ({ text }) => ({ words: text.split(/\\s+/).filter(Boolean).length }),
});

export default function tools() {
  return [countWords];
}
`,
    'test/words.test.ts': `// The crew on a scripted model: no key, no network. Each reply is what the model would say next.
import { loadCrew } from 'troupe';
import { reply, scriptedModel } from 'troupe/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import tools from '../crews/words/tools.js';

const answer = z.object({ words: z.number(), comment: z.string() });

describe('crews/words', () => {
  it('counts with its tool and returns the count', async () => {
    const model = scriptedModel([
      reply.toolCall('count_words', { text: 'the quick brown fox' }),
      reply.finish({ words: 4, comment: 'A short text of four words.' }),
    ]);
    const crew = loadCrew('crews/words/crew.yaml', { tools: tools(), output: answer });

    const result = await crew.run('the quick brown fox', { model });

    expect(result.status).toBe('finished');
    expect(result.output).toEqual({ words: 4, comment: 'A short text of four words.' });
    // The tool ran: its answer is in what the model was shown next.
    expect(JSON.stringify(model.calls[1]?.messages)).toContain('{\\\\"words\\\\":4}');
  });
});
`,
    'README.md': `# ${name}

A [Troupe](https://www.npmjs.com/package/troupe) project: a role in \`agents/\`, a crew in
\`crews/words/\` with its tool, and a test that runs the crew on a scripted model.

\`\`\`sh
npm install
npm test                      # offline: the model's replies are scripted in test/words.test.ts
npm run build                 # compiles crews/*/tools.ts to dist/, where troupe run finds them
npx troupe run words --request "the quick brown fox"   # live: needs ANTHROPIC_API_KEY
\`\`\`
`,
  };
}
