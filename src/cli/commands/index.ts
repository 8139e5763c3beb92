import type { Command } from 'commander';
import { registerRun } from './run.js';

/** Adds one subcommand (with its options and action) to the program. */
export type RegisterCommand = (program: Command) => void;

/** Every subcommand of `troupe`, in the order `troupe --help` lists them. */
export const commands: RegisterCommand[] = [registerRun];
