export { claim, type Claim, type Evidence } from './claim.js';
export {
  ItemRejectedError,
  isTaskEnd,
  type WorkflowTask,
  type TaskContext,
  type TaskEnd,
  type ReviewPause,
  type TaskBase,
  type Stage,
} from './workflow-task.js';
export type { TaskPolicy, CheckReport } from './policy.js';
export { codeTask } from './tasks/code-task.js';
export { promptTask, type PromptTaskOptions } from './tasks/prompt-task.js';
export { extractTask, type ExtractTaskOptions } from './tasks/extract-task.js';
export { agentTask, crewTask } from './tasks/agent-task.js';
export { humanTask } from './tasks/human-task.js';
export { defineWorkflow, type Workflow, type WorkflowOptions, type Edge, type ItemView } from './define-workflow.js';
export type { RunWorkflowOptions, RunSummary, ItemSummary, WorkItemInput } from './run-workflow.js';
export { serveWorkflowRuns, requeueRun, workflowRunsQueue, type StartRunOptions, type StartedRun, type ServeWorkflowRunsOptions } from './queued-run.js';
export { RunLeaseHeldError, RunLeaseLostError, type LeaseRecord } from './run-lease.js';
export { listReviews, getReview, decideReview, ReviewAlreadyDecidedError, type ReviewRequest, type ReviewDecision } from './review.js';
export type {
  ItemState,
  ItemRecord,
  RunRecord,
  RunGraph,
  RunStatus,
  TaskRecord,
  Transition,
} from './run-state.js';
export {
  recordRun,
  listRecordedRuns,
  loadRecordedRun,
  readTimeline,
  runRetention,
  type RecordRunOptions,
  type RunRecorder,
  type RecordedRun,
  type RecordedRunKind,
  type RecordedRunStatus,
  type RecordedRunTotals,
  type TimelineEntry,
} from './run-record.js';
export { storeOutbox } from './store-outbox.js';
export * from './eval/index.js';
