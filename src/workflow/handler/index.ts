export type { Trigger, FileRef } from './trigger.js';
export { fieldOf } from './trigger.js';
export { VirtualFiles, fileTools } from './virtual-files.js';
export { configurationSchema, defineConfiguration, loadConfiguration, matchTrigger, type Configuration, type ConfigurationSpec } from './configuration.js';
export { createHandler, Handler, type HandlerOptions, type HandlerOutcome, type ToolCallRecord } from './handler.js';
export { UnapprovedToolError, ScriptToolError, type ScriptContext, type CoordinatorScript } from './script-coordinator.js';
export { Worklist, type WorkEntry } from './worklist.js';
export { taskTool, crewTool, adhocAgentTool } from './delegates.js';
export { compareCoordinators, loadGoldenTriggers, type GoldenTrigger, type ComparisonReport, type CoordinatorRun } from './compare.js';
