export {
  Agent,
  type ExitTool,
  type ExitResult,
  type AgentOptions,
  type AgentRunOptions,
  type AgentRunResult,
  type AgentFinished,
  type AgentStopped,
} from './agent.js';
export { FinishValidationError } from './finish-validation-error.js';
export type { Persona } from './instructions.js';
export {
  maxTurns,
  maxToolCalls,
  tokenBudget,
  costBudget,
  timeout,
  textMention,
  abortSignal,
  anyOf,
  allOf,
  type TerminationCondition,
  type TerminationVerdict,
  type RunProgress,
  type NextStep,
  type ModelCallStep,
} from './termination.js';
export { runContext, deriveRunContext, type RunContext, type RunOptions, type RunServices, type ModelResolver } from './run-context.js';
export { streamRun, type RunStreamEvent, type StreamingRunOptions } from './stream-run.js';
