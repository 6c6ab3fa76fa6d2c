import { randomBytes, randomInt } from 'node:crypto';
import type { AccessKeyRecord, AccessKeyTable } from '../store/index.js';
import type { Clock } from '../shared/index.js';
import type { Caller, CredentialSource, PolicyDocument, ResolvedKey } from './caller.js';
import type { KeyFile } from './key-file.js';

/** A key as listed: everything but its secret. */
export interface AccessKeyInfo {
  readonly accessKeyId: string;
  readonly accountId: string;
  readonly userName: string;
  readonly admin: boolean;
  readonly policies: readonly PolicyDocument[];
  readonly createdAt: number;
}

/** A key just made: the only time its secret is shown. */
export interface NewAccessKey extends AccessKeyInfo {
  readonly secretAccessKey: string;
}

export interface NewKeyRequest {
  readonly accountId: string;
  readonly userName: string;
  readonly admin: boolean;
  readonly policies: readonly PolicyDocument[];
}

/**
 * How long another node's removal of a key may go unseen by this one (a fleet on one database).
 * A removal on this node is seen at once.
 */
const CACHE_MS = 5_000;
const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * The long-term access keys: made, listed and removed here, resolved for the authenticator (a
 * CredentialSource). Secrets are sealed with the key file before they reach the store. Resolved keys
 * are kept in memory briefly, so signed requests do not read the store each time.
 */
export class AccessKeys implements CredentialSource {
  readonly #table: AccessKeyTable;
  readonly #keyFile: KeyFile;
  readonly #clock: Clock;
  readonly #cache = new Map<string, { key: ResolvedKey; until: number }>();

  constructor(deps: { table: AccessKeyTable; keyFile: KeyFile; clock: Clock }) {
    this.#table = deps.table;
    this.#keyFile = deps.keyFile;
    this.#clock = deps.clock;
  }

  async create(request: NewKeyRequest): Promise<NewAccessKey> {
    const accessKeyId = `AKIA${Array.from({ length: 16 }, () => KEY_ID_ALPHABET[randomInt(KEY_ID_ALPHABET.length)]).join('')}`;
    // 40 characters, as AWS's secret access keys are.
    const secretAccessKey = randomBytes(30).toString('base64');
    const record: AccessKeyRecord = {
      accessKeyId,
      accountId: request.accountId,
      userName: request.userName,
      sealedSecret: this.#keyFile.seal(secretAccessKey, accessKeyId),
      policies: JSON.stringify(request.policies),
      admin: request.admin,
      createdAt: this.#clock.now(),
    };
    await this.#table.insert(record);
    return { ...info(record), secretAccessKey };
  }

  async list(accountId?: string): Promise<AccessKeyInfo[]> {
    return (await this.#table.list(accountId)).map(info);
  }

  async get(accessKeyId: string): Promise<AccessKeyInfo | undefined> {
    const record = await this.#table.get(accessKeyId);
    return record && info(record);
  }

  /** Whether the key existed. It stops working on this node at once. */
  async remove(accessKeyId: string): Promise<boolean> {
    this.#cache.delete(accessKeyId);
    const removed = await this.#table.remove(accessKeyId);
    this.#cache.delete(accessKeyId);
    return removed;
  }

  async resolve(accessKeyId: string): Promise<ResolvedKey | undefined> {
    const now = this.#clock.now();
    const cached = this.#cache.get(accessKeyId);
    if (cached && cached.until > now) return cached.key;
    const record = await this.#table.get(accessKeyId);
    if (!record) {
      this.#cache.delete(accessKeyId);
      return undefined;
    }
    const key: ResolvedKey = { secretAccessKey: this.#keyFile.open(record.sealedSecret, record.accessKeyId), caller: callerOf(record) };
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(accessKeyId, { key, until: now + CACHE_MS });
    return key;
  }
}

/** The principal a long-term key speaks for: an IAM user of its account. */
export function callerOf(record: Pick<AccessKeyRecord, 'accessKeyId' | 'accountId' | 'userName' | 'admin' | 'policies'>): Caller {
  return {
    accountId: record.accountId,
    arn: `arn:aws:iam::${record.accountId}:user/${record.userName}`,
    accessKeyId: record.accessKeyId,
    policies: record.admin ? 'all' : (JSON.parse(record.policies) as PolicyDocument[]),
  };
}

function info(record: AccessKeyRecord): AccessKeyInfo {
  return {
    accessKeyId: record.accessKeyId,
    accountId: record.accountId,
    userName: record.userName,
    admin: record.admin,
    policies: JSON.parse(record.policies) as PolicyDocument[],
    createdAt: record.createdAt,
  };
}
