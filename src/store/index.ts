export { SqliteStore } from './sqlite/sqlite-store.js';
export type {
  Store,
  FunctionTable,
  LogTables,
  FunctionRecord,
  LogBatch,
  LogEventInput,
  StoredLogEvent,
  LogStreamInfo,
} from './types.js';
