export * from './core/index.js';
export * from './model/model-client.js';
export * from './model/errors/index.js';
export * from './observe/trace-event.js';
export { defineTool, toJsonSchema, type Tool, type ToolDefinition, type ToolContext, type SideEffects } from './tools/define-tool.js';
export { finishTool, defaultFinishToolName } from './tools/finish-tool.js';
export { ToolSet } from './tools/tool-set.js';
export { executeToolCall, type ToolExecution } from './tools/execute-tool-call.js';
export type { Approver, ApprovalRequest, ApprovalDecision } from './tools/approval.js';
