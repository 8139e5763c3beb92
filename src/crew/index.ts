export type { Crew, CrewRunOptions } from './crew.js';
export type { CrewResult, CrewStop, TaskResult, AgentUsage } from './crew-result.js';
export { defineTask, taskPrompt, type Task } from './task.js';
export { sequentialCrew, type SequentialCrewOptions } from './sequential.js';
export { hierarchicalCrew, type HierarchicalCrewOptions } from './hierarchical.js';
export { twoAgentChat, type TwoAgentChatOptions, type TwoAgentOutput } from './two-agent.js';
