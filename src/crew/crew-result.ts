import type { AgentRunResult } from '../agent/agent.js';
import type { Message, TokenUsage } from '../model/model-client.js';
import { addUsage, emptyUsage } from '../model/model-client.js';

export interface AgentUsage {
  usage: TokenUsage;
  costUsd: number;
  /** Model calls. */
  turns: number;
  /** Agent runs (a member delegated to three times has three). */
  runs: number;
}

export interface TaskResult {
  task: string;
  agent: string;
  status: 'finished' | 'stopped' | 'failed';
  output: unknown;
  reason: string;
}

/** Why a crew ended. `kind: 'finish'` is success; the others name the condition and its numbers. */
export type CrewStop = { kind: 'finish'; reason: string } | { kind: 'stopped' | 'failed'; condition: string; reason: string; detail: Record<string, unknown> };

interface CrewRecord {
  crew: string;
  process: string;
  runId: string;
  /** Each task's (or delegation's, or proposal's) validated output, in the order they ended. */
  tasks: TaskResult[];
  /** Every message each agent exchanged with its model, by agent name, runs appended in order. */
  transcripts: Record<string, Message[]>;
  usage: { total: AgentUsage; byAgent: Record<string, AgentUsage> };
  durationMs: number;
}

/** A crew that finished: `output` is its validated result. */
export interface CrewFinished<Output> extends CrewRecord {
  status: 'finished';
  output: Output;
  stop: { kind: 'finish'; reason: string };
}

/** A crew that a bound stopped, or that failed (a member's result stayed invalid, the goal was declared failed). */
export interface CrewEnded extends CrewRecord {
  status: 'stopped' | 'failed';
  output: undefined;
  stop: { kind: 'stopped' | 'failed'; condition: string; reason: string; detail: Record<string, unknown> };
}

/**
 * What every process returns. Like `AgentRunResult`, checking `status === 'finished'` narrows
 * `output` to the crew's output type.
 */
export type CrewResult<Output> = CrewFinished<Output> | CrewEnded;

/** Collects what a crew's agents did: usage and cost per agent and in total, transcripts, task outputs. */
export class CrewRecorder {
  readonly tasks: TaskResult[] = [];
  readonly transcripts: Record<string, Message[]> = {};
  readonly byAgent: Record<string, AgentUsage> = {};
  readonly total: AgentUsage = { usage: emptyUsage(), costUsd: 0, turns: 0, runs: 0 };

  /** Adds one agent run (finished or stopped). */
  add(run: AgentRunResult<unknown>): void {
    const mine = (this.byAgent[run.agent] ??= { usage: emptyUsage(), costUsd: 0, turns: 0, runs: 0 });
    for (const into of [mine, this.total]) {
      addUsage(into.usage, run.usage);
      into.costUsd += run.costUsd;
      into.turns += run.turns;
      into.runs += 1;
    }
    (this.transcripts[run.agent] ??= []).push(...run.transcript);
  }

  /** Adds a run that failed part-way: its transcript and what it spent. */
  addFailed(agent: string, transcript: readonly Message[], spent: { usage: TokenUsage; costUsd: number; turns: number }): void {
    const mine = (this.byAgent[agent] ??= { usage: emptyUsage(), costUsd: 0, turns: 0, runs: 0 });
    for (const into of [mine, this.total]) {
      addUsage(into.usage, spent.usage);
      into.costUsd += spent.costUsd;
      into.turns += spent.turns;
      into.runs += 1;
    }
    (this.transcripts[agent] ??= []).push(...transcript);
  }

  task(result: TaskResult): void {
    this.tasks.push(result);
  }

  result<Output>(base: { crew: string; process: string; runId: string; durationMs: number }, stop: CrewStop, output?: Output): CrewResult<Output> {
    const records = { tasks: this.tasks, transcripts: this.transcripts, usage: { total: this.total, byAgent: this.byAgent } };
    // Every process passes its validated output with a finish stop. (Fields in the order results were always printed.)
    if (stop.kind === 'finish') return { ...base, status: 'finished', output: output as Output, ...records, stop };
    return { ...base, status: stop.kind, output: undefined, ...records, stop };
  }
}
