export * from './core/index.js';
export type {
  TextPart,
  ToolCallPart,
  ToolResultPart,
  UserMessage,
  AssistantMessage,
  ToolMessage,
  Message,
  ToolSpec,
  ToolChoice,
  ModelRequest,
  StopReason,
  TokenUsage,
  ModelResponse,
  RetryNotice,
  ModelCallOptions,
  ModelDelta,
  ModelClient,
} from './model/model-client.js';
export * from './model/errors/index.js';
export type * from './observe/trace-event.js';
export { defineTool, type Tool, type ToolDefinition, type ToolContext, type SideEffects, type FileAccess } from './tools/define-tool.js';
export type { ToolExecution } from './tools/execute-tool-call.js';
export type { Approver, ApprovalRequest, ApprovalDecision } from './tools/approval.js';
export { EffectScope, type Outbox, type OutboxRecord } from './tools/outbox.js';
export { approveTools } from './tools/approval.js';
export {
  resolveModel,
  registerModel,
  type ModelProvider,
  type ModelSpec,
  type ResolveModelOptions,
} from './model/resolve-model.js';
export { ReplayModel, type ReplayMode, type ReplayModelOptions } from './model/replay.js';
export { registerPrice, type ModelPrice, type ModelPriceInput } from './observe/pricing.js';
export { createLogger, traceToLogger, type Logger, type LogLevel, type LoggerOptions } from './observe/logger.js';
export { registerSecret, refreshSecretValues, type Environment } from './observe/redact-secrets.js';
export * from './agent/index.js';
export {
  connectMcpServer,
  type McpServerOptions,
  type McpServerConnection,
  type McpStdioTransport,
  type McpHttpTransport,
  type McpTool,
  type McpToolInfo,
} from './tools/mcp-tools.js';
export { liveOrReplay } from './model/live-or-replay.js';
export { defaultModel, defaultOpenAIModel } from './model/default-model.js';
export { withRetry, type RetryOptions } from './model/with-retry.js';
export { AnthropicModel, type AnthropicModelOptions } from './model/anthropic.js';
export { OpenAIModel, type OpenAIModelOptions } from './model/openai.js';
export { UserProxy, terminalHumanInput, type UserProxyOptions, type ProxyDecision, type HumanInput } from './agent/user-proxy.js';
export * from './crew/index.js';
export { loadRole, loadRoles, type ToolRegistry, type LoadedRole, type LoadRoleOptions, type RoleFile } from './agent/role-loader.js';
// The queues and the workers that serve them are in `troupe/workers`, the store backends, the
// recorded runs and the store's errors (but `CorruptRecordError`, which reviews report) in `troupe/store`: the root keeps what a program that runs
// agents, crews and workflows writes (`openRuntime`, `openStateStore`), and the interfaces
// (`StateStore`, `JobQueue`) that its runtime holds.
export type {
  JobQueue,
  AddJobOptions,
  JobBackoff,
  JobRef,
  QueuedJob,
  JobHandler,
  ProcessOptions,
  JobCounts,
  JobEvent,
  CloseOptions,
} from './queue/job-queue.js';
export type { Journal, JournalJob } from './queue/queue-journal.js';
export { openRuntime, type Runtime, type OpenRuntimeOptions } from './queue/runtime.js';
export type {
  StateStore,
  StoredDocument,
  PutOptions,
  DeleteOptions,
  UpdateOptions,
  Updater,
  ListOptions,
  ListPage,
  StreamEntry,
  AppendOptions,
  BatchWrite,
  ReadOptions,
} from './store/state-store.js';
export { openStateStore, type OpenStateStoreOptions } from './store/open-state-store.js';
export { CorruptRecordError } from './store/errors/corrupt-record-error.js';
export { claim, type Claim, type Evidence } from './workflow/claim.js';
export {
  ItemRejectedError,
  isTaskEnd,
  type WorkflowTask,
  type TaskContext,
  type TaskEnd,
  type ReviewPause,
  type TaskBase,
  type Stage,
} from './workflow/workflow-task.js';
export type { TaskPolicy, CheckReport } from './workflow/policy.js';
export { codeTask } from './workflow/tasks/code-task.js';
export { promptTask, type PromptTaskOptions } from './workflow/tasks/prompt-task.js';
export { extractTask, type ExtractTaskOptions } from './workflow/tasks/extract-task.js';
export { agentTask, crewTask } from './workflow/tasks/agent-task.js';
export { humanTask } from './workflow/tasks/human-task.js';
export { defineWorkflow, type Workflow, type WorkflowOptions, type Edge, type ItemView } from './workflow/define-workflow.js';
export type { RunWorkflowOptions, RunSummary, ItemSummary, WorkItemInput } from './workflow/run-workflow.js';
export type { StartRunOptions, StartedRun } from './workflow/queued-run.js';
export { RunLeaseHeldError, RunLeaseLostError, type LeaseRecord } from './workflow/run-lease.js';
export { listReviews, getReview, decideReview, ReviewAlreadyDecidedError, type ReviewRequest, type ReviewDecision } from './workflow/review.js';
export type { ItemState, ItemRecord, RunRecord, RunGraph, RunStatus, TaskRecord, Transition } from './workflow/run-state.js';
export * from './workflow/eval/index.js';
export type { Trigger, FileRef } from './coordinator/trigger.js';
export { FileOutsideRootError } from './coordinator/virtual-files.js';
export { defineConfiguration, loadConfiguration, type Configuration, type ConfigurationSpec } from './coordinator/configuration.js';
export { Handler, type HandleOptions, type HandlerOptions, type HandlerOutcome, type ToolCallRecord } from './coordinator/handler.js';
export { UnapprovedToolError, ScriptToolError, type ScriptContext, type CoordinatorScript } from './coordinator/script-coordinator.js';
export type { WorkEntry } from './coordinator/worklist.js';
export type { GoldenTrigger, ComparisonReport, CoordinatorRun } from './coordinator/compare.js';
export { schedule } from './coordinator/trigger-sources.js';
export * from './work/index.js';
export type { ProviderOptions } from './model/provider-options.js';
