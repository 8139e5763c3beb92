#!/usr/bin/env node
// The `troupe` command: each subcommand lives in its own file under commands/ and is listed in
// commands/index.ts. Exit codes (DESIGN.md): 0 done, 1 the run failed, 2 bad input or
// configuration, 3 waiting for review.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode, isTroupeError } from '../core/errors/troupe-error.js';
import { commands, type RegisterCommand } from './commands/index.js';
import { pathToFileURL } from 'node:url';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * Runs the command line. `extra` adds commands from layers above the CLI (the dashboard): the
 * `troupe` executable (bin/troupe.ts) passes them, so the layers keep their order.
 */
export async function main(argv: readonly string[], extra: readonly RegisterCommand[] = []): Promise<number> {
  const program = new Command('troupe')
    .description('LLM agents in roles, inside workflows that code owns.')
    .version(version)
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
    if (isTroupeError(error)) {
      process.stderr.write(`troupe: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`troupe: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    return ExitCode.failed;
  }
}

// Run directly (node dist/src/cli/main.js), this is the command without the dashboard.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
