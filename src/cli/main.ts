#!/usr/bin/env node
// The `troupe` command: each subcommand lives in its own file under commands/ and is listed in
// commands/index.ts. Exit codes (DESIGN.md): 0 done, 1 the run failed, 2 bad input or
// configuration, 3 waiting for review.
import { Command, CommanderError } from 'commander';
import { ExitCode, isTroupeError } from '../core/errors/troupe-error.js';
import { commands, type RegisterCommand } from './commands/index.js';
import { ownPackage } from './package-root.js';
import { pathToFileURL } from 'node:url';
import { knownSecretRedactor } from '../observe/redact-secrets.js';

const { version } = ownPackage;

/**
 * Runs the command line. `extra` adds commands from layers above the CLI (the dashboard): the
 * `troupe` executable (bin/troupe.ts) passes them, so the layers keep their order.
 */
export async function main(argv: readonly string[], extra: readonly RegisterCommand[] = []): Promise<number> {
  const program = new Command('troupe')
    .description('LLM agents in roles, inside workflows that code owns.')
    .version(version)
    .option('--debug', 'print the stack trace of an error (or set TROUPE_DEBUG=1)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
    .showHelpAfterError('(troupe --help lists the commands)');
  for (const register of [...commands, ...extra]) register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.done;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      return error.exitCode === 0 ? ExitCode.done : ExitCode.badInput;
    }
    // A stack trace helps whoever debugs Troupe, not whoever fixes a file: only on request.
    const debug = argv.includes('--debug') || isSet(process.env['TROUPE_DEBUG']);
    // Messages and stacks can quote what a provider, a tool or a file said: keys never reach the terminal.
    const scrub = knownSecretRedactor();
    if (isTroupeError(error)) {
      process.stderr.write(scrub(`troupe: ${error.message}\n`));
      if (debug) process.stderr.write(scrub(`${stackOf(error)}\n`));
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      scrub(debug ? `troupe: ${stackOf(error)}\n` : `troupe: ${message}\n(an unexpected error: --debug or TROUPE_DEBUG=1 shows its stack trace)\n`),
    );
    return ExitCode.failed;
  }
}

function isSet(value: string | undefined): boolean {
  const text = value?.trim().toLowerCase();
  return Boolean(text) && text !== '0' && text !== 'false';
}

/** The stack of an error and of its causes (a tools module's own error is the cause of the configuration error). */
function stackOf(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    parts.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
  }
  return parts.join('\nCaused by: ');
}

/**
 * `troupe runs show … | head`: once the reader of stdout has gone, nothing more can be said, so
 * the command ends quietly with exit 0 instead of an EPIPE stack trace. Installed once by each
 * entry point (here and bin/troupe.ts), never by `main` itself, which tests call in-process.
 */
export function endQuietlyOnClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.done);
    throw error;
  });
}

// Run directly (node dist/src/cli/main.js), this is the command without the dashboard.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  endQuietlyOnClosedStdout();
  process.exitCode = await main(process.argv.slice(2));
}
