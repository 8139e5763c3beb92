export { claim, isClaim, type Claim, type Evidence } from './claim.js';
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
export { promptTask, parseJson, type PromptTaskOptions } from './tasks/prompt-task.js';
export { extractTask, type ExtractTaskOptions } from './tasks/extract-task.js';
export { agentTask, crewTask } from './tasks/agent-task.js';
export { humanTask } from './tasks/human-task.js';
export { renderTemplate } from './tasks/model-step.js';
export { defineWorkflow, type Workflow, type WorkflowOptions, type Edge, type ItemView } from './define-workflow.js';
export { runWorkflow, resumeRun, type RunWorkflowOptions, type RunSummary, type ItemSummary, type WorkItemInput } from './run-workflow.js';
export { RunLease, RunLeaseHeldError, RunLeaseLostError, type LeaseRecord } from './run-lease.js';
export { listReviews, getReview, decideReview, ReviewAlreadyDecidedError, type ReviewRequest, type ReviewDecision } from './review.js';
export {
  runStateVersion,
  finalStates,
  loadRun,
  listRuns,
  listItems,
  loadItem,
  readTransitions,
  collections,
  type ItemState,
  type ItemRecord,
  type RunRecord,
  type RunGraph,
  type RunStatus,
  type TaskRecord,
  type Transition,
} from './run-state.js';
export { storeOutbox } from './store-outbox.js';
export * from './eval/index.js';
