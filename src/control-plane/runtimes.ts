import { createHash } from 'node:crypto';

/**
 * Runtimes Kindling runs, and how: every nodejs* name runs on the machine's Node.js, every
 * python3.* name on its python3, and provided.* runs the function's own `bootstrap`.
 */
export interface RuntimeInfo {
  readonly family: 'nodejs' | 'python' | 'provided';
}

export const SUPPORTED_RUNTIMES: ReadonlyMap<string, RuntimeInfo> = new Map([
  ['nodejs18.x', { family: 'nodejs' }],
  ['nodejs20.x', { family: 'nodejs' }],
  ['nodejs22.x', { family: 'nodejs' }],
  ['python3.10', { family: 'python' }],
  ['python3.11', { family: 'python' }],
  ['python3.12', { family: 'python' }],
  ['python3.13', { family: 'python' }],
  ['provided.al2', { family: 'provided' }],
  ['provided.al2023', { family: 'provided' }],
]);

/**
 * Where a runtime stands in Lambda's lifecycle (lambda-runtimes.md, "Supported runtimes" and
 * "Deprecated runtimes"). `blockUpdate` is the day from which Lambda refuses to create or update
 * functions on it; until then a deprecated runtime still works. `successor` is the runtime
 * Lambda's refusal recommends.
 */
export interface RuntimeLifecycle {
  readonly deprecated?: string;
  readonly blockCreate?: string;
  readonly blockUpdate?: string;
  readonly successor: string;
}

/** Lambda's dates, as its runtime page lists them (ISO dates). */
export const RUNTIME_LIFECYCLE: ReadonlyMap<string, RuntimeLifecycle> = new Map([
  ['nodejs', { deprecated: '2016-10-31', blockCreate: '2016-10-31', blockUpdate: '2016-10-31', successor: 'nodejs22.x' }],
  ['nodejs4.3', { deprecated: '2020-03-05', blockCreate: '2020-03-05', blockUpdate: '2020-03-05', successor: 'nodejs22.x' }],
  ['nodejs4.3-edge', { deprecated: '2019-04-30', blockCreate: '2019-04-30', blockUpdate: '2019-04-30', successor: 'nodejs22.x' }],
  ['nodejs6.10', { deprecated: '2019-08-12', blockCreate: '2019-08-12', blockUpdate: '2019-08-12', successor: 'nodejs22.x' }],
  ['nodejs8.10', { deprecated: '2020-03-06', blockCreate: '2020-03-06', blockUpdate: '2020-03-06', successor: 'nodejs22.x' }],
  ['nodejs10.x', { deprecated: '2021-07-30', blockCreate: '2021-07-30', blockUpdate: '2022-02-14', successor: 'nodejs22.x' }],
  ['nodejs12.x', { deprecated: '2023-03-31', blockCreate: '2023-03-31', blockUpdate: '2023-04-30', successor: 'nodejs22.x' }],
  ['nodejs14.x', { deprecated: '2023-12-04', blockCreate: '2024-01-09', blockUpdate: '2024-02-08', successor: 'nodejs22.x' }],
  ['nodejs16.x', { deprecated: '2024-06-12', blockCreate: '2025-02-28', blockUpdate: '2025-03-31', successor: 'nodejs22.x' }],
  // Deprecated, but Kindling still runs it and lets functions be created on it (docs/compatibility.md).
  ['nodejs18.x', { deprecated: '2025-09-01', successor: 'nodejs22.x' }],
  ['python2.7', { deprecated: '2021-07-15', blockCreate: '2021-07-15', blockUpdate: '2022-05-30', successor: 'python3.13' }],
  ['python3.6', { deprecated: '2022-07-18', blockCreate: '2022-07-18', blockUpdate: '2022-08-29', successor: 'python3.13' }],
  ['python3.7', { deprecated: '2023-12-04', blockCreate: '2024-01-09', blockUpdate: '2024-02-08', successor: 'python3.13' }],
  ['python3.8', { deprecated: '2024-10-14', blockCreate: '2025-02-28', blockUpdate: '2025-03-31', successor: 'python3.13' }],
  ['python3.9', { deprecated: '2025-12-15', successor: 'python3.13' }],
  ['dotnetcore1.0', { deprecated: '2019-07-30', blockCreate: '2019-07-30', blockUpdate: '2019-07-30', successor: 'dotnet8' }],
  ['dotnetcore2.0', { deprecated: '2019-05-30', blockCreate: '2019-05-30', blockUpdate: '2019-05-30', successor: 'dotnet8' }],
  ['dotnetcore2.1', { deprecated: '2022-01-05', blockCreate: '2022-01-05', blockUpdate: '2022-04-13', successor: 'dotnet8' }],
  ['dotnetcore3.1', { deprecated: '2023-04-03', blockCreate: '2023-04-03', blockUpdate: '2023-05-03', successor: 'dotnet8' }],
  ['dotnet6', { deprecated: '2024-12-20', blockCreate: '2025-02-28', blockUpdate: '2025-03-31', successor: 'dotnet8' }],
  ['dotnet5.0', { deprecated: '2022-05-10', blockCreate: '2022-05-10', blockUpdate: '2022-05-10', successor: 'dotnet8' }],
  ['java8', { deprecated: '2024-01-08', blockCreate: '2024-02-08', blockUpdate: '2024-03-12', successor: 'java21' }],
  ['go1.x', { deprecated: '2024-01-08', blockCreate: '2024-02-08', blockUpdate: '2024-03-12', successor: 'provided.al2023' }],
  ['provided', { deprecated: '2024-01-08', blockCreate: '2024-02-08', blockUpdate: '2024-03-12', successor: 'provided.al2023' }],
  ['ruby2.5', { deprecated: '2021-07-30', blockCreate: '2021-07-30', blockUpdate: '2022-03-31', successor: 'ruby3.4' }],
  ['ruby2.7', { deprecated: '2023-12-07', blockCreate: '2024-01-09', blockUpdate: '2024-02-08', successor: 'ruby3.4' }],
]);

/** Lambda's Runtime enum (from the AWS SDK model): names Lambda knows, whether or not Kindling runs them. */
export const LAMBDA_RUNTIMES: readonly string[] = [
  'nodejs', 'nodejs4.3', 'nodejs6.10', 'nodejs8.10', 'nodejs10.x', 'nodejs12.x', 'nodejs14.x', 'nodejs16.x',
  'nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x', 'java8', 'java8.al2', 'java11', 'java17', 'java21', 'java25',
  'python2.7', 'python3.6', 'python3.7', 'python3.8', 'python3.9', 'python3.10', 'python3.11', 'python3.12',
  'python3.13', 'python3.14', 'dotnetcore1.0', 'dotnetcore2.0', 'dotnetcore2.1', 'dotnetcore3.1', 'dotnet6',
  'dotnet8', 'dotnet10', 'nodejs4.3-edge', 'go1.x', 'ruby2.5', 'ruby2.7', 'ruby3.2', 'ruby3.3', 'ruby3.4',
  'provided', 'provided.al2', 'provided.al2023',
];

/**
 * The runtimes Lambda lists when it refuses an unknown runtime name: those it still lets you
 * create functions on (the enum minus the ones blocked by `today`), in Lambda's own message form.
 */
export function creatableRuntimes(today: string): string[] {
  return LAMBDA_RUNTIMES.filter((runtime) => {
    const blocked = RUNTIME_LIFECYCLE.get(runtime)?.blockCreate;
    return blocked === undefined || blocked > today;
  });
}

/** Whether Lambda refuses to create (`'create'`) or update (`'update'`) functions on `runtime` on `today`. */
export function runtimeBlocked(runtime: string, today: string, operation: 'create' | 'update'): RuntimeLifecycle | undefined {
  const lifecycle = RUNTIME_LIFECYCLE.get(runtime);
  const from = operation === 'create' ? lifecycle?.blockCreate : lifecycle?.blockUpdate;
  return from !== undefined && from <= today ? lifecycle : undefined;
}

/**
 * RuntimeVersionConfig.RuntimeVersionArn: Lambda names the runtime build a function runs with
 * `arn:aws:lambda:<region>::runtime:<64 hex>`. Kindling has one build per runtime name, so the
 * id is derived from the name (stable across restarts and machines).
 */
export function runtimeVersionArn(region: string, runtime: string): string {
  const id = createHash('sha256').update(`kindling-runtime:${runtime}`).digest('hex');
  return `arn:aws:lambda:${region}::runtime:${id}`;
}
