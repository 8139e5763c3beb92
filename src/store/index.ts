export type {
  StateStore,
  StoredDocument,
  PutOptions,
  DeleteOptions,
  UpdateOptions,
  Updater,
  ListOptions,
  ListPage,
  StreamEntry,
  AppendOptions,
  ReadOptions,
  StoreWrite,
} from './state-store.js';
export { FileStore, type FileStoreOptions } from './file-store.js';
export { SqliteStore, type SqliteStoreOptions, type SqliteDriver } from './sqlite-store.js';
export { openStateStore, type OpenStateStoreOptions } from './open-state-store.js';
export * from './errors/index.js';
