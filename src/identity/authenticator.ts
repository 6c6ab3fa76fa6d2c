import { timingSafeEqual } from 'node:crypto';
import { ExpiredTokenException, InvalidSignatureException, UnrecognizedClientException, type Clock } from '../shared/index.js';
import type { Caller, CredentialSource } from './caller.js';
import { readSignatureClaim } from './sigv4-parts.js';
import { verifySignature, type ArrivedRequest } from './sigv4-verifier.js';

/** A signed request to authenticate: as it arrived, and the services its route answers for. */
export interface SignedRequest extends ArrivedRequest {
  /** The signing names the route accepts in the credential scope (`lambda`, `logs`, ...). */
  readonly services: readonly string[];
}

/**
 * SigV4 authentication: who signed a request. Asks each credential source in turn for the key
 * (long-term keys, then the session credentials handed to functions), checks the session token and
 * its expiry, the region and service of the scope, the clock, and the signature itself.
 */
export class Authenticator {
  readonly #sources: readonly CredentialSource[];
  readonly #region: string;
  readonly #clock: Clock;

  constructor(deps: { sources: readonly CredentialSource[]; region: string; clock: Clock }) {
    this.#sources = deps.sources;
    this.#region = deps.region;
    this.#clock = deps.clock;
  }

  async authenticate(request: SignedRequest): Promise<Caller> {
    const claim = readSignatureClaim(request.headers, new Map(request.query.map(([k, v]) => [k, v] as const).reverse()));
    if (claim.region !== this.#region) {
      throw new InvalidSignatureException(`Credential should be scoped to a valid region, not '${claim.region}'. `);
    }
    if (!request.services.includes(claim.service)) {
      throw new InvalidSignatureException(`Credential should be scoped to correct service: '${request.services[0] ?? ''}'. `);
    }
    const key = await this.#resolve(claim.accessKeyId, claim.sessionToken);
    if (!key) throw new UnrecognizedClientException();
    // Temporary credentials are only valid with their own token; long-term keys take none.
    if (key.sessionToken !== undefined || claim.sessionToken !== undefined) {
      if (key.sessionToken === undefined || claim.sessionToken === undefined || !sameText(key.sessionToken, claim.sessionToken)) {
        throw new UnrecognizedClientException();
      }
    }
    const now = this.#clock.now();
    if (key.expiresAt !== undefined && now >= key.expiresAt) throw new ExpiredTokenException();
    await verifySignature(claim, request, key.secretAccessKey, now);
    return key.caller;
  }

  async #resolve(accessKeyId: string, sessionToken: string | undefined) {
    for (const source of this.#sources) {
      const key = await source.resolve(accessKeyId, sessionToken);
      if (key) return key;
    }
    return undefined;
  }
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
