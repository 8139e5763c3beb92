// Test doubles shipped to users (`troupe/testing`): they need them to test their own crews.
export { ScriptedModel, scriptedModel, reply, ScriptExhaustedError } from './model/scripted.js';
export type { ScriptedReply, ScriptedResponder, ScriptedModelOptions } from './model/scripted.js';
export { collectTrace } from './observe/trace-event.js';
export { sequentialIds, manualClock } from './core/ids.js';
export { ReplayModel, loadCassette, requestKey } from './model/replay.js';
export type { ReplayMode, ReplayModelOptions, Cassette, CassetteEntry } from './model/replay.js';
export { registerModel, unregisterModel } from './model/resolve-model.js';
