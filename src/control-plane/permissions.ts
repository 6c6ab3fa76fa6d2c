import type { Caller } from '../identity/index.js';
import {
  InvalidParameterValueException,
  PolicyLengthExceededException,
  PreconditionFailedException,
  ResourceConflictException,
  ResourceNotFoundException,
  functionArn,
  unscope,
  newRevisionId,
  KeyedLock,
  type Partition,
} from '../shared/index.js';
import { layerPolicyOwner, type Store } from '../store/index.js';
import type { Aliases } from './aliases.js';
import type { FunctionRegistry } from './function-registry.js';
import type { FunctionVersions } from './function-versions.js';
import type { LayerRegistry } from './layer-registry.js';
import {
  POLICY_SIZE_LIMIT,
  emptyPolicy,
  functionStatement,
  layerStatement,
  validateStatementIdToRemove,
  type ResourcePolicyDocument,
  type ResourceStatement,
} from './policy-statements.js';
import type { ResourcePolicyCache } from './resource-policies.js';
import { expectString } from './validation.js';

/** Finds the target again (in its turn): throws if it was deleted meanwhile. */
type Recheck = () => unknown;

/** The resource a policy belongs to, and who owns it in the store. */
interface PolicyTarget {
  readonly resourceArn: string;
  readonly owner: string;
  readonly qualifier: string;
  /** Runs a write in the owner's turn (a function's, so a deletion cannot slip in between). */
  readonly turn: <T>(task: () => Promise<T>) => Promise<T>;
}

export interface PermissionsDeps {
  store: Store;
  cache: ResourcePolicyCache;
  registry: FunctionRegistry;
  versions: FunctionVersions;
  aliases: Aliases;
  layers: LayerRegistry;
  partition: Partition;
}

const NO_POLICY = 'No policy is associated with the given resource.';
const REVISION_MISMATCH = 'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id';
/** A compare-and-set lost to another server's write is tried again, a few times. */
const ATTEMPTS = 5;

/**
 * AddPermission, GetPolicy, RemovePermission and their layer-version twins. The policy is read,
 * changed and written back with the revision it was read at: a write that lost to another one
 * (this server's or another's) is tried again, or answers PreconditionFailedException when the
 * caller named the revision it expected. The cache is current before the API answers.
 */
export class Permissions {
  readonly #deps: PermissionsDeps;
  /** Layer writes take turns per layer version within this process (functions use their own turn). */
  readonly #layerTurns = new KeyedLock();

  constructor(deps: PermissionsDeps) {
    this.#deps = deps;
  }

  async addToFunction(caller: Caller, ref: string, qualifier: string | null, body: Record<string, unknown>): Promise<{ Statement: string }> {
    const target = this.#functionTarget(caller, ref, qualifier, 'add');
    const statement = functionStatement(body, target.resourceArn);
    const expected = expectString(body['RevisionId'], 'revisionId');
    await this.#add(target, statement, expected, () => this.#functionTarget(caller, ref, qualifier, 'add'));
    return { Statement: JSON.stringify(statement) };
  }

  async functionPolicy(caller: Caller, ref: string, qualifier: string | null): Promise<{ Policy: string; RevisionId: string }> {
    return this.#read(this.#functionTarget(caller, ref, qualifier, 'read'));
  }

  async removeFromFunction(caller: Caller, ref: string, qualifier: string | null, sid: string, revisionId: string | null): Promise<void> {
    validateStatementIdToRemove(sid);
    const target = this.#functionTarget(caller, ref, qualifier, 'read');
    await this.#remove(target, sid, revisionId ?? undefined, () => this.#functionTarget(caller, ref, qualifier, 'read'));
  }

  async addToLayerVersion(
    caller: Caller,
    layer: string,
    version: string,
    body: Record<string, unknown>,
    revisionId: string | null,
  ): Promise<{ Statement: string; RevisionId: string }> {
    const target = await this.#layerTarget(caller, layer, version);
    const statement = layerStatement(body, target.resourceArn);
    const written = await this.#add(target, statement, revisionId ?? undefined, () => this.#layerTarget(caller, layer, version));
    return { Statement: JSON.stringify(statement), RevisionId: written };
  }

  async layerVersionPolicy(caller: Caller, layer: string, version: string): Promise<{ Policy: string; RevisionId: string }> {
    return this.#read(await this.#layerTarget(caller, layer, version));
  }

  async removeFromLayerVersion(caller: Caller, layer: string, version: string, sid: string, revisionId: string | null): Promise<void> {
    validateStatementIdToRemove(sid);
    const target = await this.#layerTarget(caller, layer, version);
    await this.#remove(target, sid, revisionId ?? undefined, () => this.#layerTarget(caller, layer, version));
  }

  async #read(target: PolicyTarget): Promise<{ Policy: string; RevisionId: string }> {
    const stored = await this.#deps.store.policies.get(target.resourceArn);
    if (!stored) throw new ResourceNotFoundException(NO_POLICY);
    return { Policy: stored.policy, RevisionId: stored.revisionId };
  }

  /** Adds the statement; returns the policy's new revision. */
  #add(target: PolicyTarget, statement: ResourceStatement, expected: string | undefined, recheck: Recheck): Promise<string> {
    return this.#change(target, expected, recheck, (policy = emptyPolicy()) => {
      if (policy.Statement.some((s) => s.Sid === statement.Sid)) {
        throw new ResourceConflictException('The statement id (sid) provided already exists. Please choose a new statement id, or remove the existing statement.');
      }
      const next = { ...policy, Statement: [...policy.Statement, statement] };
      const size = JSON.stringify(next).length;
      if (size > POLICY_SIZE_LIMIT) throw new PolicyLengthExceededException(`The final policy size (${size}) is bigger than the limit (${POLICY_SIZE_LIMIT}).`);
      return next;
    });
  }

  async #remove(target: PolicyTarget, sid: string, expected: string | undefined, recheck: Recheck): Promise<void> {
    await this.#change(target, expected, recheck, (policy) => {
      if (!policy) throw new ResourceNotFoundException(NO_POLICY);
      const kept = policy.Statement.filter((s) => s.Sid !== sid);
      if (kept.length === policy.Statement.length) throw new ResourceNotFoundException(`Statement ${sid} is not found in resource policy.`);
      // The last statement gone, the policy is gone: GetPolicy answers that there is none.
      return kept.length === 0 ? undefined : { ...policy, Statement: kept };
    });
  }

  /**
   * Reads the policy, `edit`s it (undefined: no policy left) and writes it back over the revision
   * read, in the target's turn; returns the new revision. `recheck` finds the target again in its
   * turn (deleted while this request waited). A write lost to another server's is tried again,
   * unless the caller named the revision it expected.
   */
  async #change(
    target: PolicyTarget,
    expected: string | undefined,
    recheck: Recheck,
    edit: (policy: ResourcePolicyDocument | undefined) => ResourcePolicyDocument | undefined,
  ): Promise<string> {
    const { policies } = this.#deps.store;
    return target.turn(async () => {
      await recheck();
      for (let attempt = 1; ; attempt++) {
        const stored = await policies.get(target.resourceArn);
        if (expected !== undefined && stored !== undefined && stored.revisionId !== expected) throw new PreconditionFailedException(REVISION_MISMATCH);
        const next = edit(stored && (JSON.parse(stored.policy) as ResourcePolicyDocument));
        if (expected !== undefined && stored === undefined) throw new PreconditionFailedException(REVISION_MISMATCH);
        const revisionId = newRevisionId();
        const row = { resourceArn: target.resourceArn, owner: target.owner, qualifier: target.qualifier };
        const written =
          next === undefined
            ? await policies.delete(target.resourceArn, target.owner, stored!.revisionId)
            : await policies.put({ ...row, policy: JSON.stringify(next), revisionId }, stored?.revisionId);
        if (written) {
          await this.#deps.cache.refresh(target.owner);
          return revisionId;
        }
        if (expected !== undefined) throw new PreconditionFailedException(REVISION_MISMATCH);
        if (attempt >= ATTEMPTS) throw new ResourceConflictException('The policy is being changed by another request. Please try again.');
      }
    });
  }


  /**
   * A function, version or alias named by FunctionName (and the Qualifier parameter). Lambda keeps
   * no policy on `$LATEST` apart from the function's own: adding one is refused, reading one reads
   * the function's.
   */
  #functionTarget(caller: Caller, ref: string, qualifierParam: string | null, use: 'add' | 'read'): PolicyTarget {
    const { versions, aliases, registry, partition } = this.#deps;
    // The caller's function for a bare name, the ARN's account's otherwise (docs/accounts.md).
    const { name, qualifier } = versions.target(ref, qualifierParam, caller.accountId);
    registry.getByName(name);
    if (qualifier === '$LATEST' && use === 'add') throw new InvalidParameterValueException('We currently do not support adding policies for $LATEST.');
    const scoped = qualifier === undefined || qualifier === '$LATEST' ? undefined : qualifier;
    if (scoped !== undefined) aliases.lookup(name, scoped); // ResourceNotFoundException for a version or alias that is not there
    return {
      resourceArn: functionArn(partition, name, scoped),
      owner: name,
      qualifier: scoped ?? '',
      turn: (task) => registry.exclusive(name, task),
    };
  }

  async #layerTarget(caller: Caller, layer: string, version: string): Promise<PolicyTarget> {
    const record = await this.#deps.layers.get(layer, version, caller.accountId);
    const key = `${record.layerName}:${record.version}`;
    // The layer's key carries its account (docs/accounts.md).
    const { accountId, name } = unscope(this.#deps.partition.accountId, record.layerName);
    return {
      resourceArn: `arn:aws:lambda:${this.#deps.partition.region}:${accountId}:layer:${name}:${record.version}`,
      owner: layerPolicyOwner(record.layerName),
      qualifier: String(record.version),
      turn: (task) => this.#layerTurns.run(key, task),
    };
  }
}
