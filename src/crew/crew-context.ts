import type { Agent, AgentRunOptions, AgentRunResult } from '../agent/agent.js';
import { FinishValidationError } from '../agent/finish-validation-error.js';
import { runContext, type RunContext } from '../agent/run-context.js';
import type { Clock, IdGenerator } from '../core/ids.js';
import type { Message } from '../model/model-client.js';
import type { TraceEvent, TraceSink } from '../observe/trace-event.js';
import type { CrewRunOptions } from './crew.js';
import { CrewRecorder, type CrewResult, type CrewStop } from './crew-result.js';

export type MemberOutcome<Output> =
  | { status: 'finished'; output: Output; reason: string; run: AgentRunResult<Output> }
  | { status: 'stopped'; output: undefined; reason: string; condition: string; detail: Record<string, unknown>; run: AgentRunResult<Output> }
  | { status: 'failed'; output: undefined; reason: string; condition: string; detail: Record<string, unknown>; error: FinishValidationError };

/**
 * What every process shares while a crew runs: the run's id, clock, trace and recorder, and the
 * one way members are run, so usage, transcripts and model failures are handled the same everywhere.
 */
export class CrewContext {
  /** The crew run's context; every member's run is derived from it. */
  readonly run: RunContext;
  readonly runId: string;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly recorder = new CrewRecorder();
  readonly startedAt: number;
  readonly trace: TraceSink | undefined;

  constructor(
    readonly crew: string,
    readonly process: string,
    options: CrewRunOptions,
  ) {
    this.run = runContext(options);
    ({ runId: this.runId, clock: this.clock, ids: this.ids, trace: this.trace } = this.run);
    this.startedAt = this.clock.now();
  }

  emit(event: DistributiveOmit<TraceEvent, 'at' | 'runId'>): void {
    if (this.trace) this.trace({ ...event, at: this.clock.now(), runId: this.runId } as TraceEvent);
  }

  /**
   * Runs a member. A member that keeps returning an invalid result is a `failed` outcome (its
   * transcript is kept), not an exception: the process decides what that means for the crew.
   */
  async runMember<Output>(
    agent: Agent<Output>,
    input: string | undefined,
    extra: Pick<AgentRunOptions, 'history' | 'termination'> = {},
  ): Promise<MemberOutcome<Output>> {
    try {
      const run = await agent.run(input, { ...this.run, ...extra });
      this.recorder.add(run);
      if (run.status === 'finished') return { status: 'finished', output: run.output, reason: run.stop.reason, run };
      return { status: 'stopped', output: undefined, reason: run.stop.reason, condition: run.stop.condition, detail: run.stop.detail, run };
    } catch (error) {
      if (!(error instanceof FinishValidationError)) throw error;
      this.recorder.addFailed(agent.name, error.transcript as Message[], error.spent);
      return {
        status: 'failed',
        output: undefined,
        reason: error.message,
        condition: 'invalid-output',
        detail: { agent: agent.name, attempts: error.attempts },
        error,
      };
    }
  }

  finish<Output>(stop: CrewStop, output?: Output): CrewResult<Output> {
    const condition = stop.kind === 'finish' ? 'finish' : stop.condition;
    this.emit({
      type: 'crew-end',
      crew: this.crew,
      process: this.process,
      status: stop.kind === 'finish' ? 'finished' : stop.kind,
      condition,
      reason: stop.reason,
    });
    return this.recorder.result({ crew: this.crew, process: this.process, runId: this.runId, durationMs: this.clock.now() - this.startedAt }, stop, output);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
