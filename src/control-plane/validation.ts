import {
  InvalidParameterValueException,
  ValidationException,
} from '../shared/index.js';
import { LAMBDA_RUNTIMES, SUPPORTED_RUNTIMES, creatableRuntimes, runtimeBlocked } from './runtimes.js';

/** Lambda's limits, from the AWS SDK model and the Lambda quotas page. */
export const LIMITS = {
  timeoutMin: 1,
  timeoutMax: 900,
  memoryMin: 128,
  memoryMax: 10_240,
  ephemeralMin: 512,
  ephemeralMax: 10_240,
  environmentBytes: 4096,
  descriptionMax: 256,
  handlerMax: 128,
} as const;

const HANDLER = /^[^\s]+$/;
const ROLE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const ENV_KEY = /^[a-zA-Z]([a-zA-Z0-9_])+$/;

/** Environment variables Lambda sets itself and refuses to let a function override. */
const RESERVED_ENV = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function expectString(value: unknown, member: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw ValidationException.constraint(value, member, 'Member must be a string');
  return value;
}

export function expectInteger(value: unknown, member: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw ValidationException.constraint(value, member, 'Member must be an integer');
  }
  if (value < min) throw ValidationException.constraint(value, member, `Member must have value greater than or equal to ${min}`);
  if (value > max) throw ValidationException.constraint(value, member, `Member must have value less than or equal to ${max}`);
  return value;
}

/**
 * Runtime: Lambda answers an unknown name, and one it no longer lets you use, with
 * InvalidParameterValueException (not a model ValidationException) on create and update alike.
 * `today` (YYYY-MM-DD) decides which runtimes are blocked.
 */
export function validateRuntime(value: unknown, today: string, operation: 'create' | 'update' = 'create'): string {
  const runtime = expectString(value, 'runtime');
  if (runtime === undefined) {
    throw new InvalidParameterValueException('Runtime and Handler are mandatory parameters for functions created with deployment packages.');
  }
  if (!LAMBDA_RUNTIMES.includes(runtime)) {
    throw new InvalidParameterValueException(
      `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${creatableRuntimes(today).join(', ')}] or be a valid ARN`,
    );
  }
  const blocked = runtimeBlocked(runtime, today, operation);
  if (blocked) {
    throw new InvalidParameterValueException(
      `The runtime parameter of ${runtime} is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (${blocked.successor}) while creating or updating functions.`,
    );
  }
  if (!SUPPORTED_RUNTIMES.has(runtime)) {
    throw new InvalidParameterValueException(
      `The runtime parameter of ${runtime} is not supported by Kindling. Supported runtimes: ${[...SUPPORTED_RUNTIMES.keys()].join(', ')}.`,
    );
  }
  return runtime;
}

export function validateHandler(value: unknown): string {
  const handler = expectString(value, 'handler');
  if (handler === undefined) {
    throw new InvalidParameterValueException('Runtime and Handler are mandatory parameters for functions created with deployment packages.');
  }
  if (handler.length > LIMITS.handlerMax) {
    throw ValidationException.constraint(handler, 'handler', `Member must have length less than or equal to ${LIMITS.handlerMax}`);
  }
  if (!HANDLER.test(handler)) throw ValidationException.constraint(handler, 'handler', 'Member must satisfy regular expression pattern: [^\\s]+');
  return handler;
}

export function validateRole(value: unknown): string {
  const role = expectString(value, 'role');
  if (role === undefined) throw ValidationException.constraint('null', 'role', 'Member must not be null');
  if (!ROLE.test(role)) {
    throw ValidationException.constraint(role, 'role', 'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+');
  }
  return role;
}

export function validateTimeout(value: unknown): number | undefined {
  return expectInteger(value, 'timeout', LIMITS.timeoutMin, LIMITS.timeoutMax);
}

export function validateMemorySize(value: unknown): number | undefined {
  return expectInteger(value, 'memorySize', LIMITS.memoryMin, LIMITS.memoryMax);
}

export function validateDescription(value: unknown): string | undefined {
  const description = expectString(value, 'description');
  if (description !== undefined && description.length > LIMITS.descriptionMax) {
    throw ValidationException.constraint(description, 'description', `Member must have length less than or equal to ${LIMITS.descriptionMax}`);
  }
  return description;
}

export function validateEnvironment(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw ValidationException.constraint(value, 'environment', 'Member must be a structure');
  const variables = value['Variables'] ?? {};
  if (!isObject(variables)) throw ValidationException.constraint(variables, 'environment.variables', 'Member must be a map');
  const result: Record<string, string> = {};
  const reserved: string[] = [];
  for (const [key, raw] of Object.entries(variables)) {
    if (!ENV_KEY.test(key)) {
      throw ValidationException.constraint(key, 'environment.variables', 'Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]');
    }
    if (typeof raw !== 'string') throw ValidationException.constraint(raw, `environment.variables.${key}`, 'Member must be a string');
    if (RESERVED_ENV.has(key)) reserved.push(key);
    result[key] = raw;
  }
  if (reserved.length > 0) {
    throw new InvalidParameterValueException(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  // Lambda measures the JSON of the variables map against its 4 KB limit.
  const measured = JSON.stringify(result);
  if (Buffer.byteLength(measured) > LIMITS.environmentBytes) {
    throw new InvalidParameterValueException(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
  return result;
}

export function validateArchitectures(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length !== 1) {
    throw ValidationException.constraint(JSON.stringify(value), 'architectures', 'Member must have length less than or equal to 1 and greater than or equal to 1');
  }
  const [arch] = value as unknown[];
  if (arch !== 'x86_64' && arch !== 'arm64') {
    throw ValidationException.constraint(arch, 'architectures', 'Member must satisfy enum value set: [x86_64, arm64]');
  }
  return [arch];
}

export function validateEphemeralStorage(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw ValidationException.constraint(value, 'ephemeralStorage', 'Member must be a structure');
  return expectInteger(value['Size'], 'ephemeralStorage.size', LIMITS.ephemeralMin, LIMITS.ephemeralMax);
}

export function validateTags(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw ValidationException.constraint(value, 'tags', 'Member must be a map');
  for (const [key, tag] of Object.entries(value)) {
    if (typeof tag !== 'string') throw ValidationException.constraint(tag, `tags.${key}`, 'Member must be a string');
  }
  return value as Record<string, string>;
}

export function validatePackageType(value: unknown): 'Zip' | 'Image' {
  const packageType = expectString(value, 'packageType') ?? 'Zip';
  // Image: checked by image-function.ts.
  if (packageType !== 'Zip' && packageType !== 'Image') throw ValidationException.constraint(packageType, 'packageType', 'Member must satisfy enum value set: [Zip, Image]');
  return packageType;
}

/** `Code.ZipFile` (base64 in the JSON body): the only code source Kindling takes. */
export function decodeZipFile(code: unknown, member = 'code'): Buffer {
  if (!isObject(code)) throw new InvalidParameterValueException('Please provide a source for function code: Code.ZipFile.');
  if (code['S3Bucket'] !== undefined || code['S3Key'] !== undefined) {
    throw new InvalidParameterValueException('Kindling has no S3: upload the deployment package as Code.ZipFile.');
  }
  if (code['ImageUri'] !== undefined) {
    throw new InvalidParameterValueException("Please don't provide ImageUri when the intended function PackageType is Zip.");
  }
  const zip = expectString(code['ZipFile'], `${member}.zipFile`);
  if (zip === undefined || zip.length === 0) {
    throw new InvalidParameterValueException('Please provide a source for function code: Code.ZipFile.');
  }
  return Buffer.from(zip, 'base64');
}

export function ensureObject(value: unknown): Record<string, unknown> {
  if (!isObject(value)) throw ValidationException.constraint(typeof value, 'body', 'The request body must be a JSON object');
  return value;
}

/**
 * DeadLetterConfig.TargetArn: a Kindling queue, named as an SQS queue. An empty TargetArn removes
 * it (as on Lambda); `null` means "not given".
 */
export function validateDeadLetterConfig(value: unknown, isQueue: (arn: string) => boolean): string | null | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw ValidationException.constraint(value, 'deadLetterConfig', 'Member must be a structure');
  const target = expectString(value['TargetArn'], 'deadLetterConfig.targetArn');
  if (target === undefined || target === '') return null;
  if (!isQueue(target)) {
    throw new InvalidParameterValueException(
      `The dead-letter target ${target} is not supported: Kindling's dead-letter queues are named as SQS queues (arn:aws:sqs:<region>:<account>:<name>); it has no SNS.`,
    );
  }
  return target;
}

/** Layer limits, from the AWS SDK model (PublishLayerVersion). */
export const LAYER_LIMITS = { compatibleRuntimesMax: 15, compatibleArchitecturesMax: 2, licenseInfoMax: 512 } as const;

const ARCHITECTURES = ['x86_64', 'arm64'];

/** A list of enum values, as Lambda checks CompatibleRuntimes and CompatibleArchitectures. */
function expectEnumList(value: unknown, member: string, allowed: readonly string[], max: number): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw ValidationException.constraint(value, member, 'Member must be a list');
  const shown = `[${value.map(String).join(', ')}]`;
  if (value.length > max) throw ValidationException.constraint(shown, member, `Member must have length less than or equal to ${max}`);
  if (!value.every((item): item is string => typeof item === 'string' && allowed.includes(item))) {
    throw ValidationException.constraint(shown, member, `Member must satisfy constraint: [Member must satisfy enum value set: [${allowed.join(', ')}]]`);
  }
  return [...value];
}

export function validateCompatibleRuntimes(value: unknown): string[] | undefined {
  return expectEnumList(value, 'compatibleRuntimes', LAMBDA_RUNTIMES, LAYER_LIMITS.compatibleRuntimesMax);
}

export function validateCompatibleArchitectures(value: unknown): string[] | undefined {
  return expectEnumList(value, 'compatibleArchitectures', ARCHITECTURES, LAYER_LIMITS.compatibleArchitecturesMax);
}

export function validateLicenseInfo(value: unknown): string | undefined {
  const license = expectString(value, 'licenseInfo');
  if (license !== undefined && license.length > LAYER_LIMITS.licenseInfoMax) {
    throw ValidationException.constraint(license, 'licenseInfo', `Member must have length less than or equal to ${LAYER_LIMITS.licenseInfoMax}`);
  }
  return license;
}

/** The CompatibleRuntime / CompatibleArchitecture filters of ListLayers and ListLayerVersions. */
export function validateLayerFilters(runtime: string | null, architecture: string | null): { runtime?: string; architecture?: string } {
  if (runtime !== null && !LAMBDA_RUNTIMES.includes(runtime)) {
    throw ValidationException.constraint(runtime, 'compatibleRuntime', `Member must satisfy enum value set: [${LAMBDA_RUNTIMES.join(', ')}]`);
  }
  if (architecture !== null && !ARCHITECTURES.includes(architecture)) {
    throw ValidationException.constraint(architecture, 'compatibleArchitecture', `Member must satisfy enum value set: [${ARCHITECTURES.join(', ')}]`);
  }
  return { ...(runtime !== null ? { runtime } : {}), ...(architecture !== null ? { architecture } : {}) };
}

/** PublishLayerVersion's `Content.ZipFile` (base64 in the JSON body): the only source Kindling takes. */
export function decodeLayerContent(content: unknown): Buffer {
  if (content === undefined || content === null) throw ValidationException.constraint('null', 'content', 'Member must not be null');
  if (!isObject(content)) throw ValidationException.constraint(content, 'content', 'Member must be a structure');
  if (content['S3Bucket'] !== undefined || content['S3Key'] !== undefined || content['S3ObjectVersion'] !== undefined) {
    throw new InvalidParameterValueException('Kindling has no S3: upload the layer archive as Content.ZipFile.');
  }
  const zip = expectString(content['ZipFile'], 'content.zipFile');
  if (zip === undefined || zip.length === 0) {
    throw new InvalidParameterValueException('Please provide a source for the layer content: Content.ZipFile.');
  }
  return Buffer.from(zip, 'base64');
}

/**
 * Kindling's own tags: `kindling:sandbox` must name a driver the operator allows here (isolation is
 * the operator's choice, not the caller's); `kindling:network` may only say `none`, which takes the
 * function's outbound route away (unset: the server's --egress; no value reaches the host, docs/network.md).
 */
export function validateKindlingTags(tags: Record<string, string>, sandboxNames: readonly string[]): void {
  const sandbox = tags['kindling:sandbox'];
  if (sandbox !== undefined && !sandboxNames.includes(sandbox)) {
    throw new InvalidParameterValueException(
      `Tag kindling:sandbox must name a sandbox driver this server allows: ${sandboxNames.join(', ')} (got '${sandbox}'). The operator chooses them with kindling serve --allow-sandbox.`,
    );
  }
  const network = tags['kindling:network'];
  if (network !== undefined && network !== 'none') {
    throw new InvalidParameterValueException(
      `Tag kindling:network must be 'none' (got '${network}'): a function reaches the outside as the server's --egress says, never the host; 'none' takes its outbound network away.`,
    );
  }
}

/** Kindling's own tags of a function, as one comparable string (they choose how it is sandboxed). */
export function kindlingTagsOf(tags: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(tags).filter(([key]) => key.startsWith('kindling:')).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
