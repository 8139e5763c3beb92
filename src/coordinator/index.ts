export type { Trigger, FileRef } from './trigger.js';
export { FileOutsideRootError } from './virtual-files.js';
export { defineConfiguration, loadConfiguration, type Configuration, type ConfigurationSpec } from './configuration.js';
export { Handler, type HandleOptions, type HandlerOptions, type HandlerOutcome, type ToolCallRecord } from './handler.js';
export { UnapprovedToolError, ScriptToolError, type ScriptContext, type CoordinatorScript } from './script-coordinator.js';
export type { WorkEntry } from './worklist.js';
export type { GoldenTrigger, ComparisonReport, CoordinatorRun } from './compare.js';
export { handleQueue, schedule } from './trigger-sources.js';
export {
  triggerQueueName,
  queueTriggerSources,
  enqueueTrigger,
  serveTriggerQueues,
  type TriggerTarget,
  type EnqueueTriggerOptions,
  type ServeTriggerQueuesOptions,
  type ServedTriggerQueues,
} from './trigger-queues.js';
