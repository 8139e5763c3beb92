import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { z } from 'zod';
import { DefinitionFileError, type FileIssue } from './errors/definition-file-error.js';
import { jsonErrorOffset } from './json-syntax.js';

/**
 * The largest files Troupe reads, checked before a byte is parsed so that a wrong path (a log, a
 * disk image) fails at once instead of filling memory. Definition files are written by hand;
 * inputs and cassettes are data. Documented in the README ("Limits").
 */
export const fileSizeLimits = {
  /** Role, crew, configuration and golden-trigger files: 1 MiB. */
  definition: 1024 * 1024,
  /** Input files (`--input`) and replay cassettes: 32 MiB. */
  data: 32 * 1024 * 1024,
} as const;

export interface ReadFileOptions {
  /** Default `fileSizeLimits.definition`. */
  maxBytes?: number;
  /** Default: `json` for a `.json` file, `yaml` otherwise. JSON files are parsed as JSON, so a syntax error says so. */
  format?: 'yaml' | 'json';
  /** What the file is, for messages ("cassette", "input"). Default "file". */
  what?: string;
  /**
   * The case of the file's keys. Role, crew and configuration files are `snake_case`: an unknown
   * camelCase key there is named with the snake_case key to write instead.
   */
  keyCase?: 'snake_case';
}

/**
 * Reads a text file no bigger than `maxBytes`; a missing, unreadable or oversized file is a
 * DefinitionFileError naming it.
 */
export function readTextFile(path: string, options: Pick<ReadFileOptions, 'maxBytes' | 'what'> = {}): string {
  const what = options.what ?? 'file';
  const maxBytes = options.maxBytes ?? fileSizeLimits.definition;
  try {
    const size = statSync(path).size;
    if (size > maxBytes) {
      throw new DefinitionFileError([
        { file: path, message: `the ${what} is ${megabytes(size)}; Troupe reads ${what}s of at most ${megabytes(maxBytes)} (a wrong path?)` },
      ]);
    }
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof DefinitionFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `the ${what} does not exist`
        : code === 'EISDIR'
          ? `this is a folder, not a ${what}`
          : `cannot read the ${what}: ${code ?? (error as Error).message}`;
    throw new DefinitionFileError([{ file: path, message: why }], { cause: error });
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 2 : 1)} MiB`;
}

/** A parsed YAML (or JSON) definition file that can say on which line a field stands. */
export class DefinitionFile {
  #lines: Yaml.LineCounter | undefined;
  readonly #text: string;
  readonly #keyCase: 'snake_case' | undefined;
  #document: Yaml.Document | undefined;
  readonly data: unknown;

  private constructor(
    readonly path: string,
    text: string,
    format: 'yaml' | 'json',
    keyCase?: 'snake_case',
  ) {
    this.#text = text;
    this.#keyCase = keyCase;
    if (format === 'json') {
      // Parsed as JSON (not as YAML, of which JSON is nearly a subset), so the error speaks of JSON;
      // the YAML document is built only when a line is asked for.
      this.data = parseJson(path, text);
      return;
    }
    const document = this.#documentOf();
    // Only the first syntax error is reported: the parser's later ones mostly follow from it.
    const problem = document.errors[0];
    if (problem) {
      const at = problem.linePos?.[0];
      // The first line of yaml's message ends with " at line L, column C:", followed by a code excerpt.
      const text = problem.message.split('\n')[0]!.replace(/\s*at line \d+, column \d+:?\s*$/, '');
      throw new DefinitionFileError([{ file: path, ...(at ? { line: at.line, column: at.col } : {}), message: `not valid YAML: ${text}` }]);
    }
    this.data = document.toJS();
  }

  static read(path: string, options: ReadFileOptions = {}): DefinitionFile {
    return new DefinitionFile(path, readTextFile(path, options), options.format ?? formatOf(path), options.keyCase);
  }

  static parse(path: string, text: string, options: Pick<ReadFileOptions, 'format' | 'keyCase'> = {}): DefinitionFile {
    return new DefinitionFile(path, text, options.format ?? formatOf(path), options.keyCase);
  }

  #documentOf(): Yaml.Document {
    if (!this.#document) {
      const { LineCounter, parseDocument } = loadYaml();
      this.#lines = new LineCounter();
      this.#document = parseDocument(this.#text, { lineCounter: this.#lines, prettyErrors: true });
    }
    return this.#document;
  }

  /** The line (1-based) of the value at `path`, or of its nearest parent that exists. */
  lineOf(path: readonly PropertyKey[]): number | undefined {
    const document = this.#documentOf();
    for (let depth = path.length; depth >= 0; depth--) {
      const node = document.getIn(path.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return this.#lines!.linePos(node.range[0]).line;
    }
    return undefined;
  }

  /** Validates the file against a zod schema; every problem is reported at once, each with its line and field. */
  validate<T>(schema: z.ZodType<T>, what: string): T {
    const issues: FileIssue[] = [];
    const value = this.check(schema, this.data, [], issues, what);
    if (value === undefined) throw new DefinitionFileError(issues);
    return value.value;
  }

  /**
   * Validates `value`, found at `at` in this file, against a schema. Problems are added to
   * `issues` with their full path from the file's root, and the result is undefined; otherwise
   * the parsed value, boxed (it may itself be undefined).
   */
  check<T>(schema: z.ZodType<T>, value: unknown, at: readonly PropertyKey[], issues: FileIssue[], what?: string): { value: T } | undefined {
    const parsed = schema.safeParse(value);
    if (parsed.success) return { value: parsed.data };
    for (const issue of parsed.error.issues) {
      const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
      for (const path of paths) {
        const message = issue.code === 'unrecognized_keys' ? this.#unknownKey(String(path.at(-1))) : issue.message;
        issues.push(this.issue([...at, ...path], what ? `${what}: ${message}` : message));
      }
    }
    return undefined;
  }

  #unknownKey(key: string): string {
    const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    if (this.#keyCase !== 'snake_case' || snake === key) return `unknown field "${key}"`;
    return `unknown field "${key}": keys in this file are snake_case, write "${snake}"`;
  }

  /** A problem with the field at `path` (from the file's root). */
  issue(path: readonly PropertyKey[], message: string): FileIssue {
    const line = this.lineOf(path);
    const field = path.map(String).join('.');
    return { file: this.path, ...(line === undefined ? {} : { line }), ...(field ? { field } : {}), message };
  }

  /** An error about the field at `path` of this file. */
  error(path: readonly PropertyKey[], message: string): DefinitionFileError {
    return new DefinitionFileError([this.issue(path, message)]);
  }
}

function formatOf(path: string): 'yaml' | 'json' {
  return /\.json$/i.test(path) ? 'json' : 'yaml';
}

/** JSON.parse, with a syntax error turned into one naming the file, line and column. */
export function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const raw = (error as Error).message;
    const position = jsonErrorOffset(text) ?? Number(/at position (\d+)/.exec(raw)?.[1] ?? text.length);
    const before = text.slice(0, position);
    const line = before.split('\n').length;
    const column = position - before.lastIndexOf('\n');
    // V8 quotes the text around an unexpected token and adds its own position; the location says that better.
    const message = raw.replace(/^(Unexpected token '.+?'), .* is not valid JSON$/s, '$1').replace(/\s*in JSON at position \d+.*$/s, '');
    throw new DefinitionFileError([{ file: path, line, column, message: `not valid JSON: ${message}` }], { cause: error });
  }
}

const require = createRequire(import.meta.url);

/**
 * The YAML parser (73 files) is loaded when the first YAML file is parsed or a line is asked for,
 * not by `import 'troupe'`: a program that builds its agents in code never needs it. Its Node
 * build is CommonJS, so a synchronous require keeps DefinitionFile's API synchronous.
 */
function loadYaml(): typeof Yaml {
  return require('yaml') as typeof Yaml;
}
