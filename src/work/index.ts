export { WorkGraph, notificationId, type WorkGraphOptions, type ChatAnswer } from './work-graph.js';
export {
  defineWorkGraph,
  isWorkGraphSpec,
  type WorkGraphDefinition,
  type WorkItemDefinition,
  type WorkGraphSpec,
  type PropagationLimits,
  type WorkRetention,
  defaultRetention,
} from './work-graph-definition.js';
export {
  WorkItemStore,
  workItemSchemaVersion,
  type WorkItem,
  type ItemNotification,
  type ItemDecision,
  type ConversationTurn,
  type NotificationOutcome,
  type WorkEvent,
  type ChangeSource,
} from './work-item.js';
export { openWorkGraph, workQueueName, type OpenWorkGraphOptions } from './open-work-graph.js';
export { loadWorkGraph, type WorkGraphModuleExport } from './load-work-graph.js';
export { taskAgent, notificationPrompt, chatPrompt, type TaskAgent } from './task-agent.js';
export { lineDiff } from './line-diff.js';
export { DependencyCycleError, UnknownWorkItemError, WorkItemContentionError, GraphNotQuietError } from './work-errors.js';
export { describeWorkEvent } from './describe-work-event.js';
