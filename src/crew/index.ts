export type { Crew, CrewRunOptions } from './crew.js';
export type { CrewResult, CrewFinished, CrewEnded, CrewStop, TaskResult, AgentUsage } from './crew-result.js';
export { defineTask, type Task } from './task.js';
export { sequentialCrew, type SequentialCrewOptions } from './sequential.js';
export { hierarchicalCrew, type HierarchicalCrewOptions } from './hierarchical.js';
export { twoAgentCrew, type TwoAgentChatOptions, type TwoAgentOutput } from './two-agent.js';
export { loadCrew, type LoadCrewOptions } from './crew-loader.js';
export {
  groupChatCrew,
  type GroupChat,
  type GroupChatOptions,
  type GroupChatResult,
  type ChatMessage,
  type SpeakerSelection,
  type SpeakerSelector,
  type SpeakerSelectionState,
} from './group-chat.js';
export {
  consensualCrew,
  type ConsensualCrew,
  type ConsensualCrewOptions,
  type ConsensusResult,
  type ConsensusRound,
  type ConsensusDecision,
  type Critique,
  type Vote,
} from './consensual.js';
