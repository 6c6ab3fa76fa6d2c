import assert from 'node:assert/strict';
import { zipFiles } from '../../src/code/index.js';
import { nodeFunction } from './functions.js';
import { ROLE, type TestServer } from './kindling.js';

/**
 * Golden answers: what AWS Lambda answers, field for field, with the values that differ from call
 * to call masked. The evidence for each answer is LocalStack's AWS-validated snapshot file
 * tests/aws/services/lambda_/test_lambda_api.snapshot.json (recorded against AWS), named per case.
 */

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';
export const ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:`;

/** Placeholders for values that change from call to call, checked for their form instead. */
const MASKS: Record<string, [RegExp, string]> = {
  RevisionId: [/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, '<uuid>'],
  LastModified: [/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/, '<date>'],
  CreatedDate: [/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/, '<date>'],
  CodeSha256: [/^[A-Za-z0-9+/]{43}=$/, '<code-sha256>'],
  Location: [/^https?:\/\/\S+$/, '<location>'],
  RuntimeVersionArn: [new RegExp(`^arn:aws:lambda:${REGION}::runtime:[0-9a-f]{64}$`), '<runtime-version-arn>'],
};

/**
 * The answer with its changing values replaced by placeholders (each checked for its form first)
 * and the SDK's `$metadata` removed. Numbers stay: CodeSize is compared with the zip's own size.
 */
export function masked(value: unknown, key = ''): unknown {
  // The SDK turns EventInvokeConfig's LastModified (epoch seconds on the wire) into a Date.
  if (value instanceof Date && key === 'LastModified') return '<epoch-seconds>';
  if (Array.isArray(value)) return value.map((item) => masked(item));
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== '$metadata' && v !== undefined) out[k] = masked(v, k);
    return out;
  }
  const mask = MASKS[key];
  if (mask && typeof value === 'string') {
    assert.match(value, mask[0], `${key} has AWS's form`);
    return mask[1];
  }
  // EventInvokeConfig's LastModified is epoch seconds (a number), as on AWS.
  if (key === 'LastModified' && typeof value === 'number') return '<epoch-seconds>';
  return value;
}

/** Asserts an answer is exactly the golden one, changing values masked. */
export function golden(actual: unknown, expected: unknown, message?: string): void {
  assert.deepEqual(masked(actual), expected, message);
}

export interface RawAnswer {
  status: number;
  errorType: string | null;
  body: unknown;
}

/** A raw HTTP call, for answers the SDK hides (error bodies, 204s, exact members). */
export async function raw(server: TestServer, method: string, path: string, body?: unknown): Promise<RawAnswer> {
  const res = await fetch(`${server.kindling.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, errorType: res.headers.get('x-amzn-errortype'), body: text === '' ? undefined : JSON.parse(text) };
}

/** A CreateFunction request body as raw JSON (the zip in base64), for calls made with `raw`. */
export async function createRequestBody(name: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return { ...(await nodeFunction(name)), Code: { ZipFile: Buffer.from(await zipFiles({ 'index.js': '' })).toString('base64') }, ...extra };
}

/** The FunctionConfiguration AWS answers for a Node.js zip function made with nodeFunction(), before overrides. */
export function nodeConfiguration(name: string, codeSize: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    FunctionName: name,
    FunctionArn: `${ARN}${name}`,
    Runtime: 'nodejs20.x',
    Role: ROLE,
    Handler: 'index.handler',
    CodeSize: codeSize,
    Description: '',
    Timeout: 3,
    MemorySize: 128,
    LastModified: '<date>',
    CodeSha256: '<code-sha256>',
    Version: '$LATEST',
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: '<uuid>',
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: ['x86_64'],
    EphemeralStorage: { Size: 512 },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    RuntimeVersionConfig: { RuntimeVersionArn: '<runtime-version-arn>' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${name}` },
    ...overrides,
  };
}

/** What CreateFunction answers: Pending while being created, with no LastUpdateStatus yet. */
export function creating(name: string, codeSize: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { LastUpdateStatus: _omitted, ...rest } = nodeConfiguration(name, codeSize);
  return { ...rest, State: 'Pending', StateReason: 'The function is being created.', StateReasonCode: 'Creating', ...overrides };
}

/** A list entry (ListFunctions, ListVersionsByFunction): no State, LastUpdateStatus or RuntimeVersionConfig. */
export function listed(configuration: Record<string, unknown>): Record<string, unknown> {
  const { State: _s, StateReason: _r, StateReasonCode: _c, LastUpdateStatus: _u, RuntimeVersionConfig: _v, ...rest } = configuration;
  return rest;
}

/** Lambda's error body: `{Type, message}`, or `{Type, Message}` for ResourceNotFoundException. */
export function userError(message: string, key: 'message' | 'Message' = 'message'): Record<string, unknown> {
  return { Type: 'User', [key]: message };
}
