import { timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { InvalidSignatureException } from '../shared/index.js';
import { formatAmzDate, type SignatureClaim } from './sigv4-parts.js';

/** AWS accepts a signature dated up to five minutes either side of its clock. */
export const CLOCK_SKEW_MS = 5 * 60_000;
const SHA256_HEADER = 'x-amz-content-sha256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** A request as it arrived, for re-signing. */
export interface ArrivedRequest {
  readonly method: string;
  /** The path exactly as sent (still percent-encoded): SigV4 signs it as the client saw it. */
  readonly path: string;
  /** The decoded query, in the order given. */
  readonly query: readonly (readonly [string, string])[];
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Hex SHA-256 of the body as received. */
  readonly bodyHash: string;
}

/**
 * Checks a claimed signature by signing the same request again with the AWS SDK's own signer
 * (`@smithy/signature-v4`): the canonical request is built by the code that built the client's, so
 * the two cannot disagree on canonicalisation. Only the headers the client signed take part.
 */
export async function verifySignature(claim: SignatureClaim, request: ArrivedRequest, secretAccessKey: string, now: number): Promise<void> {
  checkTime(claim, now);
  const declared = headerValue(request.headers, SHA256_HEADER);
  if (declared !== undefined && declared !== request.bodyHash && !(declared === UNSIGNED_PAYLOAD && claim.expiresSeconds !== undefined)) {
    // A header-signed request must hash its body (UNSIGNED-PAYLOAD is S3's, and presigned URLs').
    throw new InvalidSignatureException('The provided x-amz-content-sha256 header does not match what was computed.');
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: claim.accessKeyId, secretAccessKey },
    region: claim.region,
    service: claim.service,
    sha256: Sha256,
  });
  const signed = new Set(claim.signedHeaders);
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = request.headers[name];
    if (value === undefined) throw new InvalidSignatureException(InvalidSignatureException.MISMATCH);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // The payload hash goes to the signer as this header (it reads it before hashing a body itself);
  // it is signed only if the client signed it.
  const unsignable = new Set([SHA256_HEADER, 'x-amz-date'].filter((name) => !signed.has(name)));
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of request.query) {
    if (key === 'X-Amz-Signature') continue;
    const existing = query[key];
    query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const base = { method: request.method, protocol: 'http:', hostname: headers['host'] ?? 'localhost', path: request.path, query };
  const options = { signingDate: claim.signingDate, signingRegion: claim.region, signingService: claim.service, signableHeaders: signed, unsignableHeaders: unsignable };

  const hashes = claim.expiresSeconds === undefined ? [request.bodyHash] : [request.bodyHash, UNSIGNED_PAYLOAD];
  for (const hash of hashes) {
    const toSign = { ...base, headers: { ...headers, [SHA256_HEADER]: declared ?? hash } };
    let expected: string | undefined;
    let expectedHeaders: string | undefined;
    if (claim.expiresSeconds === undefined) {
      const out = await signer.sign(toSign, options);
      const auth = String(out.headers['authorization'] ?? '');
      expected = /Signature=([0-9a-f]+)/.exec(auth)?.[1];
      expectedHeaders = /SignedHeaders=([^,]+)/.exec(auth)?.[1];
    } else {
      const out = await signer.presign(toSign, { ...options, expiresIn: claim.expiresSeconds, unhoistableHeaders: new Set(Object.keys(toSign.headers)) });
      expected = String(out.query?.['X-Amz-Signature'] ?? '');
      expectedHeaders = String(out.query?.['X-Amz-SignedHeaders'] ?? '');
    }
    if (expectedHeaders === [...signed].sort().join(';') && expected !== undefined && sameHex(expected, claim.signature)) return;
    if (declared !== undefined) break;
  }
  throw new InvalidSignatureException(InvalidSignatureException.MISMATCH);
}

/** The five minutes either way, and a presigned URL's own lifetime, in AWS's words. */
function checkTime(claim: SignatureClaim, now: number): void {
  const signedAt = claim.signingDate.getTime();
  if (signedAt > now + CLOCK_SKEW_MS) {
    throw new InvalidSignatureException(
      `Signature not yet current: ${claim.amzDate} is still later than ${formatAmzDate(now + CLOCK_SKEW_MS)} (${formatAmzDate(now)} + 5 min.)`,
    );
  }
  if (claim.expiresSeconds !== undefined) {
    const expiresAt = signedAt + claim.expiresSeconds * 1000;
    if (now > expiresAt) throw new InvalidSignatureException(`Signature expired: ${formatAmzDate(expiresAt)} is now earlier than ${formatAmzDate(now)}`);
    return;
  }
  if (signedAt < now - CLOCK_SKEW_MS) {
    throw new InvalidSignatureException(
      `Signature expired: ${claim.amzDate} is now earlier than ${formatAmzDate(now - CLOCK_SKEW_MS)} (${formatAmzDate(now)} - 5 min.)`,
    );
  }
}

function headerValue(headers: ArrivedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Constant-time comparison of two hex signatures. */
function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
