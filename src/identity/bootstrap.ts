import type { Logger } from '../shared/index.js';
import type { AccessKeys } from './access-keys.js';
import { writeCredentialsProfile } from './credentials-file.js';

/**
 * The first start with `--auth sigv4`: when the default account has no key yet, make its
 * administrator key and write it as the `default` profile of `credentialsPath` (0600), so `aws` and
 * the SDKs work at once. Says so once, naming the file only: the secret is never logged.
 */
export async function ensureAdminKey(
  keys: AccessKeys,
  options: { accountId: string; region: string; credentialsPath: string; logger: Logger },
): Promise<void> {
  if ((await keys.list(options.accountId)).length > 0) return;
  const key = await keys.create({ accountId: options.accountId, userName: 'admin', admin: true, policies: [] });
  writeCredentialsProfile(options.credentialsPath, {
    name: 'default',
    accessKeyId: key.accessKeyId,
    secretAccessKey: key.secretAccessKey,
    region: options.region,
  });
  options.logger.info(`auth: created the administrator key of account ${options.accountId}; it is the default profile of ${options.credentialsPath}`, {
    accessKeyId: key.accessKeyId,
  });
}
