import {
  CreateFunctionCommand,
  GetFunctionCommand,
  ResourceNotFoundException,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type LambdaClient,
  type Runtime,
  type UpdateFunctionConfigurationCommandInput,
} from '@aws-sdk/client-lambda';
import { stat } from 'node:fs/promises';
import { zipDirectory } from '../../code/index.js';
import { integerFlag, parseCommand, UsageError } from '../args.js';
import { withLambda } from '../client.js';
import { waitUntilSettled } from '../wait.js';
import type { Command } from './command.js';

const OPTIONS = {
  name: { type: 'string' },
  handler: { type: 'string' },
  runtime: { type: 'string' },
  timeout: { type: 'string' },
  memory: { type: 'string' },
  env: { type: 'string', multiple: true },
  role: { type: 'string' },
} as const;

/** Defaults for a new function; an update changes only what was given. */
const NEW_FUNCTION = { handler: 'index.handler', runtime: 'nodejs20.x', roleName: 'kindling' } as const;

/**
 * `kindling deploy <dir> --name N`: zips the folder and creates the function, or updates the code
 * (then the configuration given by flags) of the one that exists; waits until it is ready.
 */
export const deploy: Command = {
  usage: [
    'deploy <dir> --name N [--handler index.handler] [--runtime nodejs20.x]',
    '[--timeout S] [--memory MB] [--env K=V ...] [--role ARN] [--endpoint URL] [--region R]',
  ],
  summary: 'create or update a function from a folder',
  async run(argv) {
    const { values, positionals } = parseCommand(argv, OPTIONS, ['dir']);
    const [dir] = positionals as [string];
    const name = values.name;
    if (name === undefined || name === '') throw new UsageError('--name is required');
    const settings: Settings = {
      ...(values.handler === undefined ? {} : { Handler: values.handler }),
      ...(values.runtime === undefined ? {} : { Runtime: values.runtime as Runtime }),
      ...(values.role === undefined ? {} : { Role: values.role }),
      ...optional('Timeout', integerFlag('timeout', values.timeout)),
      ...optional('MemorySize', integerFlag('memory', values.memory)),
      ...(values.env === undefined ? {} : { Environment: { Variables: parseEnv(values.env) } }),
    };
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new UsageError(`'${dir}' is not a directory`);
    const zip = await zipDirectory(dir);

    const { action, fn } = await withLambda(values, async (lambda, config) => {
      if (await exists(lambda, name)) return { action: 'Updated', fn: await update(lambda, name, zip, settings) };
      const defaults = {
        Handler: NEW_FUNCTION.handler,
        Runtime: NEW_FUNCTION.runtime,
        Role: `arn:aws:iam::${config.accountId}:role/${NEW_FUNCTION.roleName}`,
      };
      return { action: 'Created', fn: await create(lambda, name, zip, { ...defaults, ...settings }) };
    });
    process.stdout.write(`${action} ${name}\nFunctionArn: ${fn.FunctionArn ?? ''}\nCodeSha256: ${fn.CodeSha256 ?? ''}\n`);
    return 0;
  },
};

type Settings = Omit<UpdateFunctionConfigurationCommandInput, 'FunctionName'>;

async function exists(lambda: LambdaClient, name: string): Promise<boolean> {
  try {
    const { Configuration } = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    // An update still in flight would make ours fail with ResourceConflictException.
    if (Configuration?.State === 'Pending') await waitUntilSettled(lambda, name, 'Active');
    else if (Configuration?.LastUpdateStatus === 'InProgress') await waitUntilSettled(lambda, name, 'Updated');
    return true;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return false;
    throw err;
  }
}

async function create(
  lambda: LambdaClient,
  name: string,
  zip: Buffer,
  settings: Settings & { Role: string },
): Promise<FunctionConfiguration> {
  const created = await lambda.send(new CreateFunctionCommand({ FunctionName: name, Code: { ZipFile: zip }, ...settings }));
  await waitUntilSettled(lambda, name, 'Active');
  return created;
}

async function update(lambda: LambdaClient, name: string, zip: Buffer, settings: Settings): Promise<FunctionConfiguration> {
  let latest: FunctionConfiguration = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip }));
  // Lambda refuses a configuration update while the code update is InProgress.
  await waitUntilSettled(lambda, name, 'Updated');
  if (Object.keys(settings).length > 0) {
    latest = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, ...settings }));
    await waitUntilSettled(lambda, name, 'Updated');
  }
  return latest;
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** `--env K=V` pairs; the value may itself contain '='. Like Lambda, the set replaces the old one. */
export function parseEnv(pairs: readonly string[]): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--env must be KEY=VALUE, got '${pair}'`);
    variables[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return variables;
}
