export * from './errors/index.js';
export type { IdGenerator, Clock } from './ids.js';
export type { JsonPrimitive, JsonValue, JsonObject, JsonSchema } from './json.js';
