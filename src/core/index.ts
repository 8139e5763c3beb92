export * from './errors/index.js';
export * from './ids.js';
export * from './json.js';
export * from './redis-url.js';
