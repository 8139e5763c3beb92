export { WorkGraph, type WorkGraphOptions, type ChatAnswer } from './work-graph.js';
export {
  defineWorkGraph,
  type WorkGraphDefinition,
  type WorkItemDefinition,
  type WorkGraphSpec,
  type PropagationLimits,
  type WorkRetention,
} from './work-graph-definition.js';
export type {
  WorkItem,
  ItemNotification,
  ItemDecision,
  ConversationTurn,
  NotificationOutcome,
  WorkEvent,
  ChangeSource,
} from './work-item.js';
export { openWorkGraph, type OpenWorkGraphOptions } from './open-work-graph.js';
export type { WorkGraphModuleExport } from './load-work-graph.js';
export type { TaskAgent } from './task-agent.js';
export { DependencyCycleError, UnknownWorkItemError, WorkItemContentionError, GraphNotQuietError } from './work-errors.js';
export { describeWorkEvent } from './describe-work-event.js';
