// The reference pages (docs/reference/) list what the code has: every command and option of
// `troupe`, every error code, every environment variable read, every trace event and its fields,
// every exit code, the fields of the role and configuration files. Each list here is read from the
// code itself (the commander program, the error classes, the sources, the zod schemas, the trace
// event types), never from a copy, so a page that misses something new, or still names something
// gone, fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { roleFileSchema } from '../../src/agent/role-loader.js';
import { configurationSchema } from '../../src/coordinator/configuration.js';
import { ExitCode } from '../../src/core/errors/troupe-error.js';
import { providerKeyVariables } from '../../src/model/resolve-model.js';
import { repoRoot } from '../support/docs.js';

const page = (name: string) => readFileSync(join(repoRoot, 'docs/reference', name), 'utf8');

/** Every .ts/.mjs source of a folder, recursively, as [repo-relative path, text]. */
function sources(folder: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts')) found.push([relative(repoRoot, path), readFileSync(path, 'utf8')]);
    }
  };
  walk(join(repoRoot, folder));
  return found;
}
const sourceFiles = [...sources('src'), ...sources('bin')];

interface Section {
  heading: string;
  text: string;
}

/** The sections of a page: each heading (any level) with the text up to the next heading. */
function sections(text: string): Section[] {
  const found: Section[] = [];
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) found.push({ heading: heading[1]!.trim(), text: '' });
    else if (found.length > 0) found[found.length - 1]!.text += `${line}\n`;
  }
  return found;
}

/** The cells of each table row of a text (header and separator rows left out), trimmed. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => /^\s*\|.*\|\s*$/.test(line))
    .map((line) =>
      line
        .trim()
        .replace(/^\||\|$/g, '')
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    )
    .filter((cells) => !cells.every((cell) => /^:?-+:?$/.test(cell)));
}

/** The first code span of a cell (`--port <n>` → --port <n>), or undefined. */
const codeIn = (cell: string | undefined) => (cell === undefined ? undefined : /`([^`]+)`/.exec(cell)?.[1]);

/** The page lists exactly what the code has: what is missing from the page, and what it names that the code does not have. */
function expectSameSet(onPage: readonly string[], inCode: readonly string[]): void {
  const page = new Set(onPage);
  const code = new Set(inCode);
  expect({ missingFromPage: [...code].filter((x) => !page.has(x)).sort(), notInCode: [...page].filter((x) => !code.has(x)).sort() }).toEqual({
    missingFromPage: [],
    notInCode: [],
  });
}

// ---------------------------------------------------------------------------------------------
// The CLI: the real program, as bin/troupe.ts builds it (main with the dashboard command),
// caught before it parses anything. From dist/ (built by the suite's global setup), where main
// finds the package.json it reads its version from.

type Main = (argv: readonly string[], extra: ReadonlyArray<(program: Command) => void>) => Promise<number>;

async function troupeProgram(): Promise<Command> {
  const { main } = (await import(join(repoRoot, 'dist/src/cli/main.js'))) as { main: Main };
  const { registerDashboard } = (await import(join(repoRoot, 'dist/src/dashboard/command.js'))) as { registerDashboard: (program: Command) => void };
  let program: Command | undefined;
  const caught = new Error('program built');
  await expect(
    main(
      [],
      [
        registerDashboard,
        (built) => {
          program = built;
          throw caught;
        },
      ],
    ),
  ).rejects.toBe(caught);
  return program!;
}

/** Every command of the program with its path (`runs show`); the root is ''. `help` is commander's own. */
function commandsOf(program: Command): Array<{ path: string; command: Command }> {
  const all: Array<{ path: string; command: Command }> = [{ path: '', command: program }];
  const walk = (command: Command, prefix: string) => {
    for (const sub of command.commands) {
      if (sub.name() === 'help') continue;
      const path = prefix ? `${prefix} ${sub.name()}` : sub.name();
      all.push({ path, command: sub });
      walk(sub, path);
    }
  };
  walk(program, '');
  return all;
}

/** The command a heading documents: "`troupe runs show`" → "runs show"; "`troupe` global options" → "". */
function commandOfHeading(heading: string): string | undefined {
  const named = /`troupe((?: [a-z][a-z-]*)*)`/.exec(heading);
  return named ? named[1]!.trim() : undefined;
}

describe('docs/reference/cli.md', async () => {
  const program = await troupeProgram();
  const commands = commandsOf(program);
  const text = page('cli.md');
  const documented = sections(text).filter((section) => commandOfHeading(section.heading) !== undefined);

  it('has a section for every command, and none for a command that does not exist', () => {
    const headings = documented.map((section) => commandOfHeading(section.heading)!);
    expectSameSet(
      headings,
      commands.map(({ path }) => path),
    );
  });

  it.each(commands.map(({ path, command }) => [path || '(global)', path, command] as const))(
    'the section of troupe %s lists exactly its options and names its arguments',
    (_label, path, command) => {
      const section = documented.find((one) => commandOfHeading(one.heading) === path);
      expect(section, `a section headed \`troupe ${path}\``).toBeDefined();
      const listed = tableRows(section!.text)
        .map((cells) => codeIn(cells[0]))
        .filter((code): code is string => code?.startsWith('-') === true)
        .map((code) => code.split(/[ ,]/).find((part) => part.startsWith('--'))!);
      const options = command.options.map((option) => option.long!);
      expectSameSet(listed, options);
      for (const argument of command.registeredArguments) expect(section!.text, `argument ${argument.name()}`).toContain(argument.name());
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Errors: every class that extends TroupeError (directly or not), its code and its fault, read
// from the sources; its exit code from the class's own exitCode getter.

interface ErrorClass {
  name: string;
  file: string;
  code: string;
  fault: string;
}

function troupeErrorClasses(): ErrorClass[] {
  const declared = new Map<string, { file: string; parent: string; abstract: boolean; code?: string; fault?: string }>();
  for (const [file, text] of sourceFiles) {
    const starts = [...text.matchAll(/^(?:export )?(abstract )?class (\w+) extends (\w+)/gm)];
    starts.forEach((start, index) => {
      const body = text.slice(start.index, starts[index + 1]?.index ?? text.length);
      declared.set(start[2]!, {
        file,
        parent: start[3]!,
        abstract: Boolean(start[1]),
        ...(/readonly code(?:: string)? = '([a-z_]+)'/.exec(body) ? { code: /readonly code(?:: string)? = '([a-z_]+)'/.exec(body)![1]! } : {}),
        ...(/readonly fault(?:: [^=]+)? = '([a-z]+)'/.exec(body) ? { fault: /readonly fault(?:: [^=]+)? = '([a-z]+)'/.exec(body)![1]! } : {}),
      });
    });
  }
  const lineage = (name: string): string[] => {
    const parent = declared.get(name)?.parent;
    return parent ? [name, ...lineage(parent)] : [name];
  };
  const inherited = (name: string, field: 'code' | 'fault') =>
    lineage(name)
      .map((one) => declared.get(one)?.[field])
      .find(Boolean);
  return [...declared.entries()]
    .filter(([name, one]) => !one.abstract && lineage(name).includes('TroupeError'))
    .map(([name, one]) => ({ name, file: one.file, code: inherited(name, 'code')!, fault: inherited(name, 'fault')! }));
}

/** The exit code the CLI gives an error of this class: its exitCode getter, read for its fault. */
async function exitCodeOf(error: ErrorClass): Promise<number> {
  const module = (await import(join(repoRoot, error.file))) as Record<string, { prototype: object } | undefined>;
  const errorClass = module[error.name];
  if (!errorClass) throw new Error(`${error.name} is not exported from ${error.file}: callers cannot catch it by class`);
  for (let proto: object | null = errorClass.prototype; proto; proto = Object.getPrototypeOf(proto)) {
    const getter = Object.getOwnPropertyDescriptor(proto, 'exitCode')?.get;
    if (getter) return getter.call({ fault: error.fault }) as number;
  }
  throw new Error(`${error.name} has no exitCode`);
}

describe('docs/reference/errors.md', () => {
  const classes = troupeErrorClasses();
  // The rows of the code tables: a code, then its class.
  const rows = tableRows(page('errors.md')).filter((cells) => /^`[a-z_]+`$/.test(cells[0] ?? '') && /^`\w+Error`$/.test(cells[1] ?? ''));

  it('finds the error classes in the sources', () => {
    expect(classes.map((one) => one.name)).toEqual(expect.arrayContaining(['ConfigurationError', 'ProviderAuthError', 'RunLeaseHeldError']));
    for (const one of classes) expect(one.code, `${one.name} has a code`).toMatch(/^[a-z_]+$/);
  });

  it('has one row per error class, and no row for a code that does not exist', () => {
    const listed = rows.map((cells) => `${codeIn(cells[0])} ${codeIn(cells[1])}`);
    expectSameSet(
      listed,
      classes.map((one) => `${one.code} ${one.name}`),
    );
  });

  it('gives each code the fault and exit code of its class', async () => {
    const expected = await Promise.all(classes.map(async (one) => `${one.code} ${one.fault} ${await exitCodeOf(one)}`));
    const listed = rows.map((cells) => `${codeIn(cells[0])} ${codeIn(cells[2])} ${cells[3]}`);
    expectSameSet(listed, expected);
  });
});

// ---------------------------------------------------------------------------------------------
// Environment variables: every name src/ and bin/ read from an environment (`env.X`, `env['X']`),
// the providers' key variables, and the variables a provider's name makes (`${PROVIDER}_BASE_URL`).

function environmentVariables(): string[] {
  const names = new Set<string>();
  const suffixes = new Set<string>();
  for (const [, text] of sourceFiles) {
    for (const m of text.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)\b|\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\])/g)) names.add(m[1] ?? m[2]!);
    // A variable named after its provider: env[`${variables}_BASE_URL`].
    for (const m of text.matchAll(/env\[`\$\{\w+\}(_[A-Z][A-Z0-9_]*)`\]/g)) suffixes.add(m[1]!);
  }
  for (const [provider, variable] of Object.entries(providerKeyVariables)) {
    names.add(variable);
    for (const suffix of suffixes) names.add(`${provider.toUpperCase()}${suffix}`);
  }
  return [...names].sort();
}

describe('docs/reference/environment.md', () => {
  const variables = environmentVariables();
  const listed = tableRows(page('environment.md'))
    .map((cells) => codeIn(cells[0]))
    .filter((code): code is string => code !== undefined && /^[A-Z][A-Z0-9_]*$/.test(code));

  it('finds the variables in the sources', () => {
    expect(variables).toEqual(expect.arrayContaining(['REDIS_URL', 'TROUPE_HOME', 'ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'OPENAI_BASE_URL']));
  });

  it('has a row for every variable src/ and bin/ read, and none for a variable nothing reads', () => {
    expectSameSet(listed, variables);
  });
});

// ---------------------------------------------------------------------------------------------
// Trace events: the members of the TraceEvent union in src/observe/trace-event.ts, each with its
// `type` and its fields (those of the base every event shares are documented once).

function traceEvents(): { base: string[]; events: Map<string, string[]> } {
  const file = join(repoRoot, 'src/observe/trace-event.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const interfaces = new Map<string, ts.InterfaceDeclaration>();
  let union: string[] = [];
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node)) interfaces.set(node.name.text, node);
    if (ts.isTypeAliasDeclaration(node) && node.name.text === 'TraceEvent' && ts.isUnionTypeNode(node.type))
      union = node.type.types.map((member) => member.getText(source));
  });
  const ownFields = (name: string) =>
    interfaces
      .get(name)!
      .members.filter(ts.isPropertySignature)
      .map((member) => ({ name: member.name.getText(source), type: member.type?.getText(source) ?? '' }));
  const base = ownFields('EventBase').map((field) => field.name);
  const events = new Map<string, string[]>();
  for (const name of union) {
    const fields = ownFields(name);
    const type = fields.find((field) => field.name === 'type')!.type.replace(/'/g, '');
    events.set(
      type,
      fields.filter((field) => field.name !== 'type').map((field) => field.name),
    );
  }
  return { base, events };
}

describe('docs/reference/trace-events.md', () => {
  const { base, events } = traceEvents();
  const all = sections(page('trace-events.md'));
  const eventSections = all.filter((section) => /^`[a-z]+(-[a-z]+)*`$/.test(section.heading));
  const fieldsIn = (text: string) =>
    tableRows(text)
      .map((cells) => codeIn(cells[0]))
      .filter((code): code is string => code !== undefined && /^[a-zA-Z]+$/.test(code));

  it('finds the events of the TraceEvent union', () => {
    expect(events.size).toBeGreaterThan(10);
    expect(events.get('model-call-end')).toEqual(expect.arrayContaining(['model', 'usage', 'costUsd']));
    expect(base).toEqual(expect.arrayContaining(['at', 'runId']));
  });

  it('has a section for every event type, and none for a type that does not exist', () => {
    expectSameSet(
      eventSections.map((section) => section.heading.replace(/`/g, '')),
      [...events.keys()],
    );
  });

  it('lists the fields every event has', () => {
    const common = all.find((section) => /common fields/i.test(section.heading));
    expect(common, 'a "Common fields" section').toBeDefined();
    expectSameSet(fieldsIn(common!.text), ['type', ...base]);
  });

  it.each([...events.entries()])('lists exactly the fields of %s', (type, fields) => {
    const section = eventSections.find((one) => one.heading === `\`${type}\``)!;
    expect(section).toBeDefined();
    expectSameSet(fieldsIn(section.text), fields);
  });
});

// ---------------------------------------------------------------------------------------------
// Exit codes: the four of ExitCode, and which command returns which (every command is named).

describe('docs/reference/exit-codes.md', async () => {
  const text = page('exit-codes.md');
  const program = await troupeProgram();

  it('lists exactly the exit codes of ExitCode', () => {
    const listed = tableRows(text)
      .filter((cells) => /^`?\d`?$/.test(cells[0] ?? ''))
      .map((cells) => Number(cells[0]!.replace(/`/g, '')));
    expect([...new Set(listed)].sort()).toEqual(Object.values(ExitCode).sort());
  });

  it('says what every command returns', () => {
    const missing = commandsOf(program)
      .filter(({ path, command }) => path !== '' && command.commands.length === 0)
      .map(({ path }) => path)
      .filter((path) => !text.includes(`troupe ${path}\``));
    expect(missing).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// File formats: the fields of the role file and of the handler configuration, from the zod
// schemas that parse them (nested objects as dotted paths: `limits.max_tool_calls`).

function fieldsOf(schema: z.ZodType, prefix = ''): string[] {
  let def = (schema as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> } } })._zod.def;
  while (def.innerType) def = (def.innerType as unknown as { _zod: { def: typeof def } })._zod.def;
  if (def.type !== 'object' || !def.shape) return [];
  return Object.entries(def.shape).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    // A condition of trigger.match is keyed by the trigger's field: its own keys are not fields of the file.
    const nested = path === 'trigger.match' ? [] : fieldsOf(value, path);
    return [path, ...nested];
  });
}

describe('docs/reference/file-formats.md', () => {
  const all = sections(page('file-formats.md'));
  const fieldsUnder = (heading: RegExp) => {
    const section = all.find((one) => heading.test(one.heading));
    expect(section, `a section whose heading matches ${heading}`).toBeDefined();
    return tableRows(section!.text)
      .map((cells) => codeIn(cells[0]))
      .filter((code): code is string => code !== undefined && /^[a-z_.]+$/.test(code));
  };

  it('lists exactly the fields of a role file', () => {
    expectSameSet(fieldsUnder(/^Role files/), fieldsOf(roleFileSchema()));
  });

  it('lists exactly the fields of a handler configuration', () => {
    expectSameSet(fieldsUnder(/^Handler configurations/), fieldsOf(configurationSchema()));
  });
});

// ---------------------------------------------------------------------------------------------
// File formats whose schemas are not exported: their fields are read from the object literals of
// the zod schemas in the source (`z.object({ name: …, agents: … })`), through the TypeScript API.

/** The property names of an object literal (spreads left out). */
function keysOf(literal: ts.ObjectLiteralExpression): string[] {
  return literal.properties.filter((property) => !ts.isSpreadAssignment(property)).map((property) => property.name!.getText().replace(/^['"]|['"]$/g, ''));
}

/** The first object literal in the initializer of the variable `name` of a source file (depth first). */
function literalOf(file: string, name: string): ts.ObjectLiteralExpression {
  const source = ts.createSourceFile(file, readFileSync(join(repoRoot, file), 'utf8'), ts.ScriptTarget.Latest, true);
  let found: ts.ObjectLiteralExpression | undefined;
  const firstLiteral = (node: ts.Node): ts.ObjectLiteralExpression | undefined =>
    ts.isObjectLiteralExpression(node) ? node : ts.forEachChild(node, firstLiteral);
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (ts.isVariableDeclaration(node) && node.name.getText() === name && node.initializer) found = firstLiteral(node.initializer);
    else ts.forEachChild(node, visit);
  };
  visit(source);
  if (!found) throw new Error(`no object literal in the initializer of ${name} in ${file}`);
  return found;
}

describe('docs/reference/file-formats.md, from the schemas in the sources', () => {
  const all = sections(page('file-formats.md'));
  const rowsUnder = (heading: RegExp) => {
    const section = all.find((one) => heading.test(one.heading));
    expect(section, `a section whose heading matches ${heading}`).toBeDefined();
    return tableRows(section!.text).filter((cells) => /^`[a-zA-Z_.[\]]+`$/.test(cells[0] ?? ''));
  };
  const firstCells = (heading: RegExp) => rowsUnder(heading).map((cells) => codeIn(cells[0])!);
  const crewLoader = 'src/crew/crew-loader.ts';

  it('lists the fields of every crew: the common ones and the process', () => {
    expectSameSet(firstCells(/^Fields of every crew/), [...keysOf(literalOf(crewLoader, 'common')), ...keysOf(literalOf(crewLoader, 'crewOf'))]);
  });

  it('lists each field of a crew with the processes that take it', () => {
    const byProcess = literalOf(crewLoader, 'fieldsByProcess');
    const owners = new Map<string, string[]>();
    for (const process of byProcess.properties.filter(ts.isPropertyAssignment)) {
      const name = process.name.getText().replace(/^['"]|['"]$/g, '');
      for (const field of keysOf(process.initializer as ts.ObjectLiteralExpression)) owners.set(field, [...(owners.get(field) ?? []), name]);
    }
    const listed = rowsUnder(/^Fields by process/).map(
      (cells) =>
        `${codeIn(cells[0])}: ${cells[1]!
          .replace(/\([^)]*\)/g, '')
          .split(',')
          .map((one) => one.trim())
          .sort()
          .join(', ')}`,
    );
    expectSameSet(
      listed,
      [...owners].map(([field, processes]) => `${field}: ${processes.sort().join(', ')}`),
    );
  });

  it("lists the fields of a crew's task", () => {
    expectSameSet(firstCells(/^Tasks$/), keysOf(literalOf(crewLoader, 'taskSchema')));
  });

  it('lists the fields of a trigger file', () => {
    expectSameSet(firstCells(/^Trigger files/), keysOf(literalOf('src/cli/commands/run-handler.ts', 'triggerFileSchema')));
  });

  it('lists the fields of a golden file and of its examples', () => {
    const golden = 'src/workflow/eval/golden.ts';
    const top = (heading: RegExp) => [...new Set(firstCells(heading).map((field) => field.split('.')[0]!))];
    expectSameSet(top(/^Golden files/), keysOf(literalOf(golden, 'goldenSchema')));
    expectSameSet(top(/^Workflow examples/), keysOf(literalOf(golden, 'workflowExample')));
    expectSameSet(top(/^Task examples/), keysOf(literalOf(golden, 'taskExample')));
  });

  it('lists the fields of a golden trigger', () => {
    expectSameSet(firstCells(/^Golden triggers/), keysOf(literalOf('src/coordinator/compare.ts', 'goldenSchema')));
  });

  it('lists the fields of a cassette and of its entries', () => {
    const replay = 'src/model/replay.ts';
    const rows = firstCells(/^Cassettes/);
    expectSameSet(
      rows.filter((field) => !field.includes('.')),
      keysOf(literalOf(replay, 'cassetteSchema')),
    );
    expectSameSet(
      rows.filter((field) => field.startsWith('entries[].')).map((field) => field.slice('entries[].'.length)),
      keysOf(literalOf(replay, 'entrySchema')),
    );
  });
});
