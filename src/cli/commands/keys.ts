import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { loadClientConfig } from '../../config/index.js';
import { writeCredentialsProfile } from '../../identity/index.js';
import { parseCommand, UsageError } from '../args.js';
import { kindlingApi } from '../kindling-api.js';
import { formatTable } from '../table.js';
import type { Command } from './command.js';

interface KeyShape {
  AccessKeyId: string;
  AccountId: string;
  UserName: string;
  Admin: boolean;
  Policies: unknown[];
  CreatedAt: string;
}

/**
 * `kindling keys create|ls|rm`: access keys through the keys API. `create` prints the new key as an
 * AWS credentials-file profile, or writes it into a credentials file (`--credentials-file`), so
 * `aws --profile NAME` and the SDKs use it.
 */
export const keys: Command = {
  usage: [
    'keys create (--admin | --policy FILE...) [--account ID] [--user NAME] [--profile NAME] [--credentials-file PATH]',
    '(create signs as AWS_PROFILE or the default profile; its --profile names the profile it writes)',
    'keys ls [--account ID]',
    'keys rm <access-key-id>',
  ],
  summary: 'manage access keys (an admin key of the account)',
  async run(argv) {
    const [verb, ...rest] = argv;
    switch (verb) {
      case 'create':
        return create(rest);
      case 'ls':
        return list(rest);
      case 'rm':
        return remove(rest);
      default:
        throw new UsageError(verb === undefined ? 'say what to do: create, ls or rm' : `unknown keys command '${verb}'`);
    }
  },
};

async function create(argv: readonly string[]): Promise<number> {
  const { values } = parseCommand(
    argv,
    {
      admin: { type: 'boolean' },
      policy: { type: 'string', multiple: true },
      account: { type: 'string' },
      user: { type: 'string' },
      'credentials-file': { type: 'string' },
    },
    [],
  );
  const policies = (values.policy ?? []).map((file) => readPolicy(file));
  if (!values.admin && policies.length === 0) throw new UsageError('give --admin, or one or more --policy FILE');
  if (values.admin && policies.length > 0) throw new UsageError('--admin and --policy exclude each other: an admin key may do anything in its account');
  // Here --profile names the profile to write; the request is signed as AWS_PROFILE or the default one.
  const signer = { endpoint: values.endpoint, region: values.region };
  const created = await kindlingApi<KeyShape & { SecretAccessKey: string }>(signer, 'POST', '/kindling/keys', {
    ...(values.account ? { AccountId: values.account } : {}),
    ...(values.user ? { UserName: values.user } : {}),
    ...(values.admin ? { Admin: true } : { Policies: policies }),
  });
  const profile = {
    name: values.profile ?? created.UserName,
    accessKeyId: created.AccessKeyId,
    secretAccessKey: created.SecretAccessKey,
    region: loadClientConfig(signer).region,
  };
  const file = values['credentials-file'];
  if (file === undefined) {
    // The profile itself, for the user to keep: the only time the secret is shown.
    process.stdout.write(
      `[${profile.name}]\naws_access_key_id = ${profile.accessKeyId}\naws_secret_access_key = ${profile.secretAccessKey}\nregion = ${profile.region}\n`,
    );
  } else {
    writeCredentialsProfile(file === '' ? join(homedir(), '.aws', 'credentials') : file, profile);
    process.stdout.write(`${created.AccessKeyId} (account ${created.AccountId}, user ${created.UserName}): profile ${profile.name} in ${file}\n`);
  }
  return 0;
}

async function list(argv: readonly string[]): Promise<number> {
  const { values } = parseCommand(argv, { account: { type: 'string' } }, []);
  const query = values.account ? `?AccountId=${encodeURIComponent(values.account)}` : '';
  const { Keys } = await kindlingApi<{ Keys: KeyShape[] }>(values, 'GET', `/kindling/keys${query}`);
  process.stdout.write(
    formatTable([
      ['ACCESS KEY', 'ACCOUNT', 'USER', 'ACCESS', 'CREATED'],
      ...Keys.map((k) => [k.AccessKeyId, k.AccountId, k.UserName, k.Admin ? 'admin' : `${k.Policies.length} policies`, k.CreatedAt]),
    ]),
  );
  return 0;
}

async function remove(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, {}, ['access-key-id']);
  await kindlingApi(values, 'DELETE', `/kindling/keys/${encodeURIComponent(positionals[0]!)}`);
  process.stdout.write(`removed ${positionals[0]}\n`);
  return 0;
}

function readPolicy(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--policy ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--policy ${file} is not JSON: ${(err as Error).message}`, { cause: err });
  }
}
