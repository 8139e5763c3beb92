import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigurationError } from './errors/configuration-error.js';

/** A parsed YAML (or JSON) definition file that can say on which line a field stands. */
export class DefinitionFile {
  readonly #lines = new LineCounter();
  readonly #document: Document;
  readonly data: unknown;

  private constructor(
    readonly path: string,
    text: string,
  ) {
    this.#document = parseDocument(text, { lineCounter: this.#lines, prettyErrors: true });
    const problem = this.#document.errors[0];
    if (problem) {
      const line = problem.linePos?.[0]?.line;
      throw new ConfigurationError(`not valid YAML: ${problem.message.split('\n')[0]}`, line === undefined ? { file: path } : { file: path, line });
    }
    this.data = this.#document.toJS();
  }

  static read(path: string): DefinitionFile {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigurationError(`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file: path });
    }
    return new DefinitionFile(path, text);
  }

  static parse(path: string, text: string): DefinitionFile {
    return new DefinitionFile(path, text);
  }

  /** The line (1-based) of the value at `path`, or of its nearest parent that exists. */
  lineOf(path: readonly PropertyKey[]): number | undefined {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.#document.getIn(path.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return this.#lines.linePos(node.range[0]).line;
    }
    return undefined;
  }

  /** Validates the file against a zod schema; the first problem becomes an error naming file, line and field. */
  validate<T>(schema: z.ZodType<T>, what: string): T {
    const parsed = schema.safeParse(this.data);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    throw this.error(path, `${what}: ${describeIssue(issue)}`);
  }

  /** An error about the field at `path` of this file. */
  error(path: readonly PropertyKey[], message: string): ConfigurationError {
    const line = this.lineOf(path);
    const field = path.map(String).join('.');
    return new ConfigurationError(message, { file: this.path, ...(line === undefined ? {} : { line }), ...(field ? { field } : {}) });
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  return issue.message;
}
