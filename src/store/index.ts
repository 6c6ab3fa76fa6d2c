export { SqliteStore } from './sqlite/sqlite-store.js';
export type { Store, FunctionRecord, LogBatch, LogEventInput, StoredLogEvent, LogStreamInfo } from './types.js';
