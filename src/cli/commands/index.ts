import type { Command } from 'commander';
import { registerEval } from './eval.js';
import { registerReview } from './review.js';
import { registerCoordinator } from './coordinator.js';
import { registerRun } from './run.js';
import { registerList } from './list.js';
import { registerRuns } from './runs.js';
import { registerWorker } from './worker.js';
import { registerChat } from './chat.js';
import { registerStore } from './store.js';
import { registerTrigger } from './trigger.js';
import { registerInit } from './init.js';
import { registerServe } from './serve.js';

/** Adds one subcommand (with its options and action) to the program. */
export type RegisterCommand = (program: Command) => void;

/** Every subcommand of `troupe`, in the order `troupe --help` lists them. */
export const commands: RegisterCommand[] = [
  registerRun,
  registerList,
  registerRuns,
  registerReview,
  registerEval,
  registerWorker,
  registerTrigger,
  registerServe,
  registerChat,
  registerCoordinator,
  registerStore,
  registerInit,
];
