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

/** Lambda's Runtime enum (from the AWS SDK model): names Lambda knows, whether or not Kindling runs them. */
export const LAMBDA_RUNTIMES: readonly string[] = [
  'nodejs', 'nodejs4.3', 'nodejs6.10', 'nodejs8.10', 'nodejs10.x', 'nodejs12.x', 'nodejs14.x', 'nodejs16.x',
  'nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x', 'java8', 'java8.al2', 'java11', 'java17', 'java21', 'java25',
  'python2.7', 'python3.6', 'python3.7', 'python3.8', 'python3.9', 'python3.10', 'python3.11', 'python3.12',
  'python3.13', 'python3.14', 'dotnetcore1.0', 'dotnetcore2.0', 'dotnetcore2.1', 'dotnetcore3.1', 'dotnet6',
  'dotnet8', 'dotnet10', 'nodejs4.3-edge', 'go1.x', 'ruby2.5', 'ruby2.7', 'ruby3.2', 'ruby3.3', 'ruby3.4',
  'provided', 'provided.al2', 'provided.al2023',
];
