import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../shared/index.js';
import type { CredentialSource, ResolvedKey } from './caller.js';
import { parseRoleArn, type Roles } from './roles.js';

/** Temporary credentials, as STS hands them out (and as Lambda sets them in a function's environment). */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/** What a session token says, under its MAC. */
interface SessionClaims {
  readonly v: 1;
  /** The role's account and name. */
  readonly a: string;
  readonly r: string;
  /** The function the credentials were issued to, and its name as the session's name (as Lambda names it). */
  readonly f: string;
  readonly s: string;
  /** Expiry, epoch ms. */
  readonly e: number;
  /** Makes each issue unique. */
  readonly n: string;
}

export interface SessionIssuerDeps {
  /** The key that signs session tokens and derives their secrets (from the key file: every node that issues or verifies must share it). */
  readonly key: Buffer;
  readonly clock: Clock;
  readonly roles: Roles;
  /** The role a function has now (its `Role` ARN), or undefined when the function is gone: credentials of a function that lost its role stop working. */
  readonly roleOf: (functionArn: string) => string | undefined;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * Credentials for functions' execution roles, without a table: the session token carries the
 * claims (role, function, expiry) under an HMAC, and the access key id and secret are derived
 * from it, so any node holding the key verifies them, and nothing is stored to leak. What the
 * credentials may do is read from the role's policies at each request, so a removed policy (or a
 * function given another role) takes effect at once, not when the credentials expire.
 */
export class SessionIssuer implements CredentialSource {
  readonly #deps: SessionIssuerDeps;

  constructor(deps: SessionIssuerDeps) {
    this.#deps = deps;
  }

  /** Credentials for `functionArn` acting as `roleArn`, valid `lifetimeMs`; undefined when the role is no IAM role ARN. */
  issue(functionArn: string, roleArn: string, lifetimeMs: number): SessionCredentials | undefined {
    const role = parseRoleArn(roleArn);
    if (!role) return undefined;
    const name = functionArn.split(':')[6] ?? functionArn;
    const claims: SessionClaims = {
      v: 1,
      a: role.accountId,
      r: role.roleName,
      f: functionArn,
      s: name,
      e: this.#deps.clock.now() + lifetimeMs,
      n: randomBytes(9).toString('base64url'),
    };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return {
      accessKeyId: this.#keyId(body),
      secretAccessKey: this.#secret(body),
      sessionToken: `${body}.${this.#mac('token', body).toString('base64url')}`,
      expiresAt: claims.e,
    };
  }

  async resolve(accessKeyId: string, sessionToken?: string): Promise<ResolvedKey | undefined> {
    if (!accessKeyId.startsWith('ASIA') || sessionToken === undefined) return undefined;
    const dot = sessionToken.indexOf('.');
    if (dot <= 0) return undefined;
    const body = sessionToken.slice(0, dot);
    const mac = Buffer.from(sessionToken.slice(dot + 1), 'base64url');
    const expected = this.#mac('token', body);
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
    if (this.#keyId(body) !== accessKeyId) return undefined;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SessionClaims;
    // Revoked when the function is gone or now has another role.
    const roleArn = this.#deps.roleOf(claims.f);
    const now = roleArn === undefined ? undefined : parseRoleArn(roleArn);
    if (!now || now.accountId !== claims.a || now.roleName !== claims.r) return undefined;
    return {
      secretAccessKey: this.#secret(body),
      sessionToken,
      expiresAt: claims.e,
      caller: {
        accountId: claims.a,
        arn: `arn:aws:sts::${claims.a}:assumed-role/${claims.r}/${claims.s}`,
        accessKeyId,
        policies: await this.#deps.roles.policiesOf({ accountId: claims.a, roleName: claims.r }),
      },
    };
  }

  #mac(purpose: string, body: string): Buffer {
    return createHmac('sha256', this.#deps.key).update(`${purpose}\0${body}`).digest();
  }

  /** `ASIA` and 16 base32 characters, as STS's temporary key ids look. */
  #keyId(body: string): string {
    const bytes = this.#mac('akid', body);
    let id = 'ASIA';
    for (let i = 0; i < 16; i++) id += BASE32[bytes[i]! & 31];
    return id;
  }

  /** 40 characters, as AWS secrets are. */
  #secret(body: string): string {
    return this.#mac('secret', body).toString('base64').slice(0, 40);
  }
}
