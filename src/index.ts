export * from './core/index.js';
export * from './model/model-client.js';
export * from './model/errors/index.js';
export * from './observe/trace-event.js';
export { defineTool, toJsonSchema, type Tool, type ToolDefinition, type ToolContext, type SideEffects, type FileAccess } from './tools/define-tool.js';
export { finishTool, defaultFinishToolName } from './tools/finish-tool.js';
export { ToolSet } from './tools/tool-set.js';
export { executeToolCall, type ToolExecution } from './tools/execute-tool-call.js';
export type { Approver, ApprovalRequest, ApprovalDecision } from './tools/approval.js';
export { EffectScope, type Outbox, type OutboxRecord } from './tools/outbox.js';
export { approveTools } from './tools/approval.js';
export {
  resolveModel,
  parseModelString,
  registerModel,
  unregisterModel,
  type ModelProvider,
  type ModelSpec,
  type ResolveModelOptions,
} from './model/resolve-model.js';
export { replayModel, ReplayModel, type ReplayMode, type ReplayModelOptions } from './model/replay.js';
export { costOf, priceOf, registerPrice, type ModelPrice, type ModelPriceInput } from './observe/pricing.js';
export { createLogger, traceToLogger, type Logger, type LogLevel, type LoggerOptions } from './observe/logger.js';
export { redactSecrets, registerSecret, refreshSecretValues } from './observe/redact-secrets.js';
export * from './agent/index.js';
export {
  connectMcpServer,
  mcpToolName,
  mcpResultText,
  type McpServerOptions,
  type McpServerConnection,
  type McpStdioTransport,
  type McpHttpTransport,
  type McpTool,
  type McpToolInfo,
} from './tools/mcp-tools.js';
export { liveOrReplay } from './model/live-or-replay.js';
export { withRetry, retryDelay, type RetryOptions } from './model/with-retry.js';
export { AnthropicModel, anthropicModel, type AnthropicModelOptions } from './model/anthropic.js';
export { OpenAIModel, openaiModel, type OpenAIModelOptions } from './model/openai.js';
export { UserProxy, terminalHumanInput, assistant, type UserProxyOptions, type ProxyDecision, type HumanInput } from './agent/user-proxy.js';
export * from './crew/index.js';
export { loadRole, loadRoles, roleFileSchema, type ToolRegistry, type LoadedRole, type RoleFile } from './agent/role-loader.js';
export { DefinitionFile } from './core/definition-file.js';
export * from './queue/index.js';
export * from './store/index.js';
export * from './workflow/index.js';
export * from './coordinator/index.js';
export * from './work/index.js';
export type { ProviderOptions } from './model/provider-options.js';
