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
export * from './queue/index.js';
export * from './store/index.js';
export * from './workflow/index.js';
export * from './coordinator/index.js';
export * from './work/index.js';
export type { ProviderOptions } from './model/provider-options.js';
