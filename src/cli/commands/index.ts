import type { Command } from 'commander';
import { registerChat } from './chat.js';
import { registerCoordinator } from './coordinator.js';
import { registerRun } from './run.js';
import { registerWorker } from './worker.js';

/** Adds one subcommand (with its options and action) to the program. */
export type RegisterCommand = (program: Command) => void;

/** Every subcommand of `troupe`, in the order `troupe --help` lists them. */
export const commands: RegisterCommand[] = [registerRun, registerWorker, registerChat, registerCoordinator];
