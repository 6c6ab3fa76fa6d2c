import type { RolePolicyTable } from './role-types.js';
import type { FunctionUrlTable } from './url-types.js';

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
  packageType: 'Zip' | 'Image';
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
  /** The function's layers, in order (later ones win in /opt). */
  layers?: FunctionLayer[];
  /** `$LATEST`, or the number of a published (immutable) version. */
  version?: string;
  /** Bytes of the unpacked code (for the 250 MB limit with layers). */
  unzippedSize?: number;
  /** On $LATEST: the number of the last version published (numbers are never reused). */
  lastPublishedVersion?: number;
  tags: Record<string, string>;
  /** Whether `Environment` was ever given: Lambda then answers `{Variables: {}}` even when empty. */
  environmentGiven?: boolean;
  /** LoggingConfig as given (Lambda's defaults filled in); absent means Text to /aws/lambda/<name>. */
  loggingConfig?: FunctionLoggingConfig;
  // PackageType Image (see control-plane/image-function.ts). Its runtime and handler are ''; its
  // codeSha256 and codeKey are the image manifest's hex digest, its root file system is the code.
  /** The ImageUri as given. */
  imageUri?: string;
  /** `<image>@sha256:<manifest digest>`: what was pulled. */
  resolvedImageUri?: string;
  /** The function's ImageConfig, which overrides the image's own settings. */
  imageConfig?: ImageSettings;
  /** How the image itself asks to be run: its config's Entrypoint, Cmd, WorkingDir and Env. */
  imageDefaults?: ImageSettings & { environment?: Record<string, string> };
}

/** A function's LoggingConfig, in the AWS SDK model's terms. */
export interface FunctionLoggingConfig {
  logFormat: 'JSON' | 'Text';
  applicationLogLevel?: string;
  systemLogLevel?: string;
  logGroup: string;
}

/** EntryPoint, Command and WorkingDirectory of a container image function. */
export interface ImageSettings {
  entryPoint?: string[];
  command?: string[];
  workingDirectory?: string;
}

/** A layer version as a function uses it: enough to lay out /opt without asking the registry. */
export interface FunctionLayer {
  /** The layer version's ARN (`arn:aws:lambda:<region>:<account>:layer:<name>:<n>`). */
  arn: string;
  /** Hex SHA-256 of the layer's zip: its unpacked tree in the code store. */
  codeKey: string;
  codeSize: number;
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

export interface LogGroupInfo {
  logGroupName: string;
  creationTime: number;
  storedBytes: number;
}

/** A stored event with its stream and row id: `id` orders events of equal timestamp. */
export interface LogEventRecord extends StoredLogEvent {
  id: number;
  stream: string;
}

/** A place in a group's (timestamp, id) order; event queries start strictly after or before one. */
export interface LogPosition {
  timestamp: number;
  id: number;
}

export interface LogEventQuery {
  group: string;
  /** Only these streams; every stream of the group when undefined. */
  streams?: readonly string[];
  startTime?: number;
  endTime?: number;
  /** Exclusive: events after it (ascending), or before it when `descending`. */
  from?: LogPosition;
  /** Newest first. */
  descending?: boolean;
  limit: number;
}

export interface LogStreamQuery {
  prefix?: string;
  /** By name, or by the time of the last event (streams without events count as 0), then name. */
  orderBy: 'LogStreamName' | 'LastEventTime';
  descending: boolean;
  /** Exclusive: the streams that come after this one in the chosen order. */
  after?: { name: string; lastEventTime: number };
  limit: number;
}

/**
 * Every write about one function (its record, versions, aliases, event-invoke configs, concurrency
 * settings) bumps that function's revision in the same transaction and, once committed, is announced
 * on the change feed. Caches keep the revision they were filled at and reload on a newer one.
 */
export interface FunctionTable {
  list(): Promise<FunctionRecord[]>;
  get(name: string): Promise<FunctionRecord | undefined>;
  /** Fails with a StoreConflictError if the name is taken (the registry checks first; this is the last line). */
  insert(record: FunctionRecord): Promise<void>;
  replace(record: FunctionRecord): Promise<void>;
  /**
   * Deletes the function and everything stored about it (versions, aliases, event-invoke configs,
   * reserved and provisioned concurrency) in one transaction: no half-deleted function after a crash.
   */
  delete(name: string): Promise<void>;
  /** Everything stored about one function, read at one point in time, with its revision. */
  snapshot(name: string): Promise<FunctionSnapshot>;
}

/** One function's stored state at one revision: what a cache reloads after a change. */
export interface FunctionSnapshot {
  readonly name: string;
  /** The function's revision: store-wide, increasing; 0 if nothing was ever written about it. */
  readonly revision: number;
  readonly function?: FunctionRecord;
  readonly versions: readonly FunctionRecord[];
  readonly aliases: readonly AliasRecord[];
  readonly eventConfigs: readonly EventInvokeConfigRecord[];
  readonly reserved?: number;
  readonly provisioned: readonly ProvisionedConcurrencyRecord[];
}

/** A committed change to one function's stored state, by any process sharing the store. */
export interface StoreChange {
  readonly name: string;
  readonly revision: number;
}

export interface ChangeListener {
  change(change: StoreChange): void;
  /** Changes may have been missed (the feed's connection was lost): every cached function is suspect. */
  resync(): void;
}

/**
 * The change feed: every committed function change, this process's own included, in commit order
 * per function. PostgreSQL LISTEN/NOTIFY for a shared store; in-process for SQLite.
 */
export interface ChangeFeed {
  /** Returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void;
}

/**
 * Content-addressed blobs (code zips, layer zips, image layers), keyed by the hex SHA-256 of their
 * bytes. The data directory for the embedded store; the database when shared, so every machine can
 * fetch what another stored. Streamed both ways: never a whole artifact in memory.
 */
export interface BlobStore {
  has(key: string): Promise<boolean>;
  /** Stores `data` under `key` unless already there; refuses bytes whose digest is not `key`. */
  put(key: string, data: Buffer | AsyncIterable<Uint8Array>): Promise<void>;
  /** The blob's bytes, streamed; undefined if no blob has that key. */
  read(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
}

export interface LogTables {
  /** Writes every batch in one transaction: one fsync for many invocations' lines. */
  append(batches: LogBatch[], ingestionTime: number): Promise<void>;
  listStreams(group: string): Promise<LogStreamInfo[]>;
  listGroups(): Promise<{ logGroupName: string; creationTime: number; storedBytes: number }[]>;
  getEvents(group: string, stream: string, options?: { startTime?: number; endTime?: number; limit?: number }): Promise<StoredLogEvent[]>;
  getGroup(name: string): Promise<LogGroupInfo | undefined>;
  getStream(group: string, name: string): Promise<LogStreamInfo | undefined>;
  /** Groups by name, after `after` (exclusive), up to `limit`. */
  queryGroups(options: { prefix?: string; after?: string; limit: number }): Promise<LogGroupInfo[]>;
  queryStreams(group: string, query: LogStreamQuery): Promise<LogStreamInfo[]>;
  /** Events in (timestamp, id) order (reversed when descending), up to `limit`. */
  queryEvents(query: LogEventQuery): Promise<LogEventRecord[]>;
}

/**
 * Persistence behind one interface (STYLE.md 5), one part per area: the SQLite store is the
 * embedded default; another store (PostgreSQL) implements the same and passes the same contract suite.
 * Every operation returns a Promise, even where SQLite answers at once: a network database cannot
 * implement a synchronous interface (issue 11).
 */
export interface Store {
  readonly functions: FunctionTable;
  readonly logs: LogTables;
  readonly events: EventQueueTable;
  readonly deadLetters: DeadLetterTable;
  readonly eventConfigs: EventInvokeConfigTable;
  readonly versions: VersionTable;
  readonly aliases: AliasTable;
  readonly concurrency: ConcurrencyTable;
  readonly layerVersions: LayerTable;
  readonly blobs: BlobStore;
  readonly changes: ChangeFeed;
  /** The fleet's registry of nodes and their heartbeats (docs/cluster.md). */
  readonly nodes: NodeTable;
  /** Resource-based policies of functions, versions, aliases and layer versions (AddPermission). */
  readonly policies: ResourcePolicyTable;
  /** Concurrency slots the api nodes hold, so limits hold across the fleet (docs/cluster.md). */
  readonly grants: ConcurrencyGrantTable;
  /** Functions' execution roles: the inline policies their credentials carry (docs/security.md). */
  readonly rolePolicies: RolePolicyTable;
  /** The access keys callers sign requests with (docs/security.md). */
  readonly keys: AccessKeyTable;
  /** Function URLs (CreateFunctionUrlConfig), found by url-id on every URL request. */
  readonly functionUrls: FunctionUrlTable;
  /** `sqlite` (one process, embedded) or `postgres` (shared by many processes). */
  readonly kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

/** A fleet node's role: `all` is every role in one process. */
export type NodeRole = 'api' | 'worker' | 'poller';

/** What a node says of itself with each heartbeat. */
export interface NodeRecord {
  /** Unique per process start (a restarted node is a new node). */
  id: string;
  roles: readonly NodeRole[];
  /** `host:port` where other nodes reach it: a worker's fleet endpoint, another node's API. */
  address: string;
  cores: number;
  /** Memory its execution environments may use, in MB (a worker never places beyond it). */
  memoryMb: number;
  /** Sandbox drivers it can start. */
  drivers: readonly string[];
  startedAt: number;
  /** When its worker lease ends (epoch ms); undefined for nodes without one. */
  leaseEndsAt?: number;
  /** `draining`: near its lease end or stopping, it takes no new work. */
  state: 'active' | 'draining';
  /** JSON of what it runs (placement's inventory: environments per function version). */
  inventory: string;
}

export interface NodeStatus extends NodeRecord {
  /** When the store last heard from it (epoch ms, the store's clock). */
  heartbeatAt: number;
  /** Milliseconds since then, by the store's clock (no skew between machines). */
  silentMs: number;
}

export interface NodeTable {
  /** Registers the node or renews its heartbeat, with what it says of itself now (one upsert). */
  heartbeat(record: NodeRecord): Promise<void>;
  list(): Promise<NodeStatus[]>;
  /** Deregisters a node (its lease ended, or it stopped). */
  remove(id: string): Promise<void>;
  /** Forgets nodes silent for longer than `silentMs`; returns how many. */
  prune(silentMs: number): Promise<number>;
  /**
   * The secret the nodes of this store authenticate each other with (32 random bytes): made by the
   * first node that asks, the same for every node after.
   */
  clusterSecret(): Promise<Buffer>;
}

/**
 * Concurrency slots held by api nodes, per scope (a function with reserved concurrency, or `*` for
 * the unreserved pool). A node runs an invocation only on a slot it holds; the sum of unexpired
 * grants of a scope never exceeds its limit, so limits hold across the fleet.
 */
export interface ConcurrencyGrantTable {
  /**
   * Sets `holder`'s grant on `scope` to `want`, or to as much of it as `limit` leaves beside every
   * other holder's unexpired grant, atomically; returns the grant now held (it may shrink).
   */
  claim(scope: string, holder: string, want: number, limit: number, ttlMs: number): Promise<number>;
  /**
   * Extends every unexpired grant of `holder` to `ttlMs` from now. An expired grant stays expired:
   * its slots may be another holder's by now (the holder claims again).
   */
  renew(holder: string, ttlMs: number): Promise<void>;
  /** Drops every grant of `holder`. */
  release(holder: string): Promise<void>;
  /** Unexpired slots held per scope, over every holder. */
  totals(): Promise<Map<string, number>>;
}

/** An event-mode invocation waiting in (or leased from) the durable queue. */
export interface QueuedEvent {
  id: number;
  functionName: string;
  qualifier: string;
  requestId: string;
  payload: Buffer;
  /** When Kindling accepted it (event age counts from here). */
  enqueuedAt: number;
  /** Invocations that ran the function (and failed) so far. */
  attempts: number;
  /** Retries after throttles or Kindling's own failures so far. */
  systemRetries: number;
  /** The last attempt's outcome, JSON, for the failure destination's responseContext. */
  lastResponse?: string;
}

export interface NewEvent {
  functionName: string;
  qualifier: string;
  requestId: string;
  payload: Buffer;
  enqueuedAt: number;
}

/** Where a failed (or successful) event went, besides leaving the queue. */
export interface DeadLetterInput {
  /** `dead-letter` (DeadLetterConfig), `destination` (a Kindling queue as destination) or `dropped`. */
  kind: 'dead-letter' | 'destination' | 'dropped';
  /** The Kindling queue's name (from its SQS-style ARN); none for dropped events. */
  queueName?: string;
  sourceFunction: string;
  qualifier: string;
  requestId: string;
  /** What the queue received: the payload (dead letters) or the destination record. */
  body: Buffer;
  /** The original request payload, for redrive. */
  requestPayload: Buffer;
  condition: string;
  reason: string;
  attempts: number;
  enqueuedAt: number;
  failedAt: number;
}

export interface DeadLetter extends DeadLetterInput {
  id: number;
}

/** How an event leaves the queue: deleted, with what it leads to written in the same transaction. */
export interface EventSettlement {
  readonly event: QueuedEvent;
  /** Events to enqueue (destinations that are functions). */
  readonly enqueue?: readonly NewEvent[];
  readonly deadLetters?: readonly DeadLetterInput[];
}

export interface EventRetry {
  readonly event: QueuedEvent;
  readonly visibleAt: number;
  readonly attempts: number;
  readonly systemRetries: number;
  readonly lastResponse?: string;
}

export interface EventQueueTable {
  /** Inserts in one fsynced transaction; returns the new ids. */
  enqueue(events: readonly NewEvent[]): Promise<number[]>;
  /**
   * Takes up to `limit` visible events for `owner`, hiding them until `visibleUntil`: the lease
   * expires then unless renewed. Concurrent callers (any process) lease disjoint events.
   */
  lease(owner: string, limit: number, now: number, visibleUntil: number): Promise<QueuedEvent[]>;
  /** Extends every live lease of `owner` to `visibleUntil`; returns how many. A dead owner's leases just expire. */
  renew(owner: string, now: number, visibleUntil: number): Promise<number>;
  /** Ends `owner`'s leases at once (a clean stop): their events are visible to every poller now. */
  release(owner: string, now: number): Promise<number>;
  /** The earliest time an event becomes visible, if any are waiting. */
  nextVisibleAt(): Promise<number | undefined>;
  /** Applies settlements and retries in one transaction. */
  apply(settlements: readonly EventSettlement[], retries: readonly EventRetry[]): Promise<void>;
  count(functionName?: string): Promise<number>;
  deleteFunction(functionName: string): Promise<void>;
}

export interface DeadLetterTable {
  list(sourceFunction: string, options?: { limit?: number; afterId?: number }): Promise<DeadLetter[]>;
  get(id: number): Promise<DeadLetter | undefined>;
  /** Deletes the dead letters and enqueues their payloads again, in one transaction. */
  redrive(letters: readonly DeadLetter[], events: readonly NewEvent[]): Promise<void>;
  countDropped(sourceFunction: string): Promise<number>;
}

export interface EventInvokeConfigRecord {
  functionName: string;
  qualifier: string;
  maximumRetryAttempts?: number;
  maximumEventAgeInSeconds?: number;
  onSuccess?: string;
  onFailure?: string;
  lastModified: number;
}

export interface EventInvokeConfigTable {
  list(): Promise<EventInvokeConfigRecord[]>;
  put(record: EventInvokeConfigRecord): Promise<void>;
  delete(functionName: string, qualifier?: string): Promise<void>;
}

export interface AliasRecord {
  functionName: string;
  name: string;
  /** The version it points at (a number, or `$LATEST`). */
  functionVersion: string;
  description: string;
  /** RoutingConfig.AdditionalVersionWeights: version → weight (0-1). */
  additionalVersionWeights?: Record<string, number>;
  revisionId: string;
}

export interface VersionTable {
  /** Every published version of every function. */
  list(): Promise<FunctionRecord[]>;
  insert(record: FunctionRecord): Promise<void>;
  delete(functionName: string, version: string): Promise<void>;
}

export interface AliasTable {
  list(): Promise<AliasRecord[]>;
  put(record: AliasRecord): Promise<void>;
  delete(functionName: string, name: string): Promise<void>;
}

export interface ProvisionedConcurrencyRecord {
  functionName: string;
  qualifier: string;
  requested: number;
  lastModified: number;
}

export interface ConcurrencyTable {
  /** Reserved concurrency per function. */
  listReserved(): Promise<{ functionName: string; reserved: number }[]>;
  putReserved(functionName: string, reserved: number): Promise<void>;
  deleteReserved(functionName: string): Promise<void>;
  listProvisioned(): Promise<ProvisionedConcurrencyRecord[]>;
  putProvisioned(record: ProvisionedConcurrencyRecord): Promise<void>;
  deleteProvisioned(functionName: string, qualifier?: string): Promise<void>;
}

/** One version of a layer: an immutable zip plus what PublishLayerVersion was told about it. */
export interface LayerVersionRecord {
  layerName: string;
  /** From 1; never reused, even after a deletion. */
  version: number;
  description: string;
  licenseInfo?: string;
  compatibleRuntimes?: string[];
  compatibleArchitectures?: string[];
  /** Base64 SHA-256 of the zip, as Lambda reports it. */
  codeSha256: string;
  /** Hex SHA-256 of the zip: its blob and unpacked tree in the code store. */
  codeKey: string;
  codeSize: number;
  /** Bytes of the unpacked tree, counted against the 250 MB limit of a function and its layers. */
  unzippedSize: number;
  createdDate: number;
}

export type NewLayerVersion = Omit<LayerVersionRecord, 'version'>;

export interface LayerTable {
  /** Stores the next version of the layer (one past the highest ever used) in one transaction. */
  publish(layer: NewLayerVersion): Promise<LayerVersionRecord>;
  /** A live version; a deleted one only with `includeDeleted`. */
  get(layerName: string, version: number, options?: { includeDeleted?: boolean }): Promise<LayerVersionRecord | undefined>;
  /** A layer's live versions, newest first. */
  listVersions(layerName: string): Promise<LayerVersionRecord[]>;
  /** Every live version, by layer name, newest first within a layer. */
  list(): Promise<LayerVersionRecord[]>;
  /** Marks a version deleted; false if there was no live version to delete. */
  delete(layerName: string, version: number): Promise<boolean>;
}

/** An access key as stored: its secret sealed with the key file's key, never in plaintext. */
export interface AccessKeyRecord {
  /** `AKIA` and 16 upper-case letters and digits. */
  accessKeyId: string;
  accountId: string;
  userName: string;
  /** The secret access key, encrypted (AES-256-GCM: iv, tag, ciphertext). */
  sealedSecret: Buffer;
  /** The identity policies, as a JSON array of policy documents. */
  policies: string;
  /** An account's administrator: every action in its own account, and key management. */
  admin: boolean;
  createdAt: number;
}

/** The long-term access keys. */
export interface AccessKeyTable {
  /** Adds a key; a second key with the same id is ERR_STORE_CONFLICT. */
  insert(record: AccessKeyRecord): Promise<void>;
  get(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  /** Every key, or an account's, oldest first. */
  list(accountId?: string): Promise<AccessKeyRecord[]>;
  /** Whether a key was removed. */
  remove(accessKeyId: string): Promise<boolean>;
}

/**
 * One resource's policy (Lambda's AddPermission statements), keyed by the resource's ARN, which
 * carries the account. `policy` is the document's JSON; `revisionId` changes with every write.
 */
export interface ResourcePolicyRecord {
  resourceArn: string;
  /**
   * Who owns it, for removal with it and for the change feed: a function's name (its policy and
   * those of its versions and aliases), or `layer:<layer name>` for a layer's versions (as the layer table names it).
   */
  owner: string;
  /** The version or alias of a function policy, the layer version's number; '' for a function's own. */
  qualifier: string;
  policy: string;
  revisionId: string;
}

/**
 * Resource policies. Every write names the revision it replaces (compare and set, so two servers
 * writing one policy at once cannot lose a statement) and is announced on the change feed under
 * the record's owner, in the same transaction.
 */
export interface ResourcePolicyTable {
  list(): Promise<ResourcePolicyRecord[]>;
  /** Every policy of one owner (a function with its versions and aliases, or a layer's versions). */
  listOwner(owner: string): Promise<ResourcePolicyRecord[]>;
  get(resourceArn: string): Promise<ResourcePolicyRecord | undefined>;
  /**
   * Writes `record` if the stored policy's revision is still `previous` (undefined: there must be
   * none); false if another write came first.
   */
  put(record: ResourcePolicyRecord, previous: string | undefined): Promise<boolean>;
  /** Deletes the policy if its revision is still `previous`; false if another write came first. */
  delete(resourceArn: string, owner: string, previous: string): Promise<boolean>;
}
