import type { RolePolicyTable } from '../store/index.js';
import { MalformedPolicyDocumentException, NoSuchEntityException, ValidationException, type Clock } from '../shared/index.js';
import type { PolicyDocument } from './caller.js';
import { parsePolicyDocument } from './policy-document.js';

/** IAM's role and policy name pattern and length. */
const NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
/** `arn:aws:iam::<account>:role/<path/>name`: the role is the last segment. */
const ROLE_ARN = /^arn:aws[a-zA-Z-]*:iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;

/** How long another server's change to a role's policies may take to be seen here. */
const CACHE_MS = 1000;

export interface RoleRef {
  readonly accountId: string;
  readonly roleName: string;
}

/** The role a function's `Role` ARN names, or undefined when it is no IAM role ARN. */
export function parseRoleArn(arn: string): RoleRef | undefined {
  const match = ROLE_ARN.exec(arn);
  return match ? { accountId: match[1]!, roleName: match[2]! } : undefined;
}

export interface RoleSummary {
  readonly RoleName: string;
  readonly Arn: string;
  readonly PolicyNames: readonly string[];
}

/**
 * Execution roles: a role is named by the functions that use it (as on IAM, where it must exist
 * first; here it exists once something names it) and may do what its inline policies allow. A
 * role with no policy may do nothing.
 */
export class Roles {
  readonly #table: RolePolicyTable;
  readonly #clock: Clock;
  readonly #cache = new Map<string, { at: number; policies: Promise<PolicyDocument[]> }>();

  constructor(deps: { table: RolePolicyTable; clock: Clock }) {
    this.#table = deps.table;
    this.#clock = deps.clock;
  }

  async putPolicy(accountId: string, roleName: string, policyName: string, document: string): Promise<void> {
    checkNames(roleName, policyName);
    if (typeof document !== 'string' || document.trim() === '') throw new MalformedPolicyDocumentException('The policy document is empty.');
    parsePolicyDocument(document);
    await this.#table.put({ accountId, roleName, policyName, document, updatedAt: this.#clock.now() });
    this.#cache.delete(`${accountId}/${roleName}`);
  }

  async getPolicy(accountId: string, roleName: string, policyName: string): Promise<{ RoleName: string; PolicyName: string; PolicyDocument: string }> {
    checkNames(roleName, policyName);
    const found = (await this.#table.list(accountId, roleName)).find((p) => p.policyName === policyName);
    if (!found) throw missing(roleName, policyName);
    return { RoleName: roleName, PolicyName: policyName, PolicyDocument: found.document };
  }

  async deletePolicy(accountId: string, roleName: string, policyName: string): Promise<void> {
    checkNames(roleName, policyName);
    const deleted = await this.#table.delete(accountId, roleName, policyName);
    this.#cache.delete(`${accountId}/${roleName}`);
    if (!deleted) throw missing(roleName, policyName);
  }

  /** The account's roles that have policies, each with its policies' names. */
  async list(accountId: string): Promise<RoleSummary[]> {
    const byRole = new Map<string, string[]>();
    for (const p of await this.#table.list(accountId)) byRole.set(p.roleName, [...(byRole.get(p.roleName) ?? []), p.policyName]);
    return [...byRole].map(([RoleName, PolicyNames]) => ({ RoleName, Arn: `arn:aws:iam::${accountId}:role/${RoleName}`, PolicyNames }));
  }

  /** What the role's credentials may do now (read at most CACHE_MS ago: a removed policy stops working within it). */
  policiesOf(role: RoleRef): Promise<PolicyDocument[]> {
    const key = `${role.accountId}/${role.roleName}`;
    const now = this.#clock.now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < CACHE_MS) return hit.policies;
    const policies = this.#table.list(role.accountId, role.roleName).then((rows) => rows.map((row) => parsePolicyDocument(row.document)));
    this.#cache.set(key, { at: now, policies });
    policies.catch(() => this.#cache.delete(key));
    return policies;
  }
}

function checkNames(roleName: string, policyName: string): void {
  if (!NAME.test(roleName)) throw ValidationException.constraint(roleName, 'roleName', 'Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 64');
  if (!POLICY_NAME.test(policyName)) {
    throw ValidationException.constraint(policyName, 'policyName', 'Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 128');
  }
}

function missing(roleName: string, policyName: string): NoSuchEntityException {
  return new NoSuchEntityException(`The role policy with name ${policyName} cannot be found for role ${roleName}.`);
}
