/** What the store keeps. Plain data: the store knows nothing of validation or Lambda's rules. */
export interface FunctionRecord {
  name: string;
  runtime: string;
  handler: string;
  role: string;
  description: string;
  timeout: number;
  memorySize: number;
  environment: Record<string, string>;
  architectures: string[];
  ephemeralStorage: number;
  packageType: 'Zip';
  /** Base64 SHA-256 of the zip, as Lambda reports it. */
  codeSha256: string;
  /** Hex SHA-256 of the zip: the key of the blob and of its unpacked tree. */
  codeKey: string;
  codeSize: number;
  lastModified: number;
  revisionId: string;
  state: 'Pending' | 'Active' | 'Inactive' | 'Failed';
  stateReason?: string;
  stateReasonCode?: string;
  lastUpdateStatus: 'InProgress' | 'Successful' | 'Failed';
  lastUpdateStatusReason?: string;
  lastUpdateStatusReasonCode?: string;
  /** DeadLetterConfig.TargetArn, when set. */
  deadLetterTarget?: string;
  tags: Record<string, string>;
}

export interface LogEventInput {
  timestamp: number;
  message: string;
}

export interface StoredLogEvent extends LogEventInput {
  ingestionTime: number;
}

export interface LogStreamInfo {
  logStreamName: string;
  creationTime: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  storedBytes: number;
}

/** One batch of log events for one stream; the sink groups writes into these. */
export interface LogBatch {
  group: string;
  stream: string;
  events: LogEventInput[];
}

export interface FunctionTable {
  list(): FunctionRecord[];
  /** Fails if the name is taken (the registry checks first; this is the last line). */
  insert(record: FunctionRecord): void;
  replace(record: FunctionRecord): void;
  delete(name: string): void;
}

export interface LogTables {
  /** Writes every batch in one transaction: one fsync for many invocations' lines. */
  append(batches: LogBatch[], ingestionTime: number): void;
  listStreams(group: string): LogStreamInfo[];
  listGroups(): { logGroupName: string; creationTime: number; storedBytes: number }[];
  getEvents(group: string, stream: string, options?: { startTime?: number; endTime?: number; limit?: number }): StoredLogEvent[];
}

/**
 * Persistence behind one interface (STYLE.md 5), one part per area: the SQLite store is the
 * embedded default; another store (PostgreSQL) implements the same and passes the same contract suite.
 */
export interface Store {
  readonly functions: FunctionTable;
  readonly logs: LogTables;
  close(): void;
}
