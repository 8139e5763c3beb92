#!/usr/bin/env node
// The `troupe` command. Commands arrive with the layers they drive (crews, workflows, workers,
// the dashboard); until then it answers --version and --help, and refuses the rest with exit 2.
import { readFileSync } from 'node:fs';
import { ExitCode } from '../core/errors/troupe-error.js';

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const help = `troupe ${version}: LLM agents in roles, inside workflows that code owns.

Usage: troupe <command> [options]

Options:
  --version   print the version
  --help      print this help

The run, runs, review, worker, dashboard, eval and chat commands are not in this version yet;
use the library API (import { Agent } from 'troupe'): see README.md.`;

const [command] = process.argv.slice(2);
if (command === '--version' || command === '-v') {
  console.log(version);
} else if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
  console.log(help);
} else {
  console.error(`troupe: unknown command "${command}".\n\n${help}`);
  process.exitCode = ExitCode.badInput;
}
