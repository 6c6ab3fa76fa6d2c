import { readFileSync } from 'node:fs';
import { parseCommand, UsageError } from '../args.js';
import { kindlingApi } from '../kindling-api.js';
import { formatTable } from '../table.js';
import type { Command } from './command.js';

/** The policy name when --name is not given: one policy per role is the common case. */
const DEFAULT_POLICY = 'kindling';

/** A role's name from its name or its ARN (`arn:aws:iam::<account>:role/<path/>name`). */
function roleName(ref: string): string {
  return ref.startsWith('arn:') ? ref.slice(ref.lastIndexOf('/') + 1) : ref;
}

const path = (role: string, policy: string) => `/kindling/roles/${encodeURIComponent(roleName(role))}/policies/${encodeURIComponent(policy)}`;

/** `kindling roles ...`: what the credentials functions get for their execution role may do. */
export const roles: Command = {
  usage: ['roles ls | put-policy <role> <file> | get-policy <role> | rm-policy <role>', '[--name POLICY] [--endpoint URL] [--region R]'],
  summary: "manage execution roles' policies",
  async run(argv) {
    const [verb, ...rest] = argv;
    switch (verb) {
      case 'ls': {
        const { values } = parseCommand(rest, {}, []);
        const { Roles } = await kindlingApi<{ Roles: { RoleName: string; Arn: string; PolicyNames: string[] }[] }>(values, 'GET', '/kindling/roles');
        process.stdout.write(formatTable([['ROLE', 'ARN', 'POLICIES'], ...Roles.map((r) => [r.RoleName, r.Arn, r.PolicyNames.join(',')])]));
        return 0;
      }
      case 'put-policy': {
        const { values, positionals } = parseCommand(rest, { name: { type: 'string' } }, ['role', 'file']);
        const [role, file] = positionals as [string, string];
        let document: string;
        try {
          document = readFileSync(file, 'utf8');
        } catch (err) {
          throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
        }
        const policy = values.name ?? DEFAULT_POLICY;
        await kindlingApi(values, 'PUT', path(role, policy), { PolicyDocument: document });
        process.stdout.write(`Put policy ${policy} on role ${roleName(role)}\n`);
        return 0;
      }
      case 'get-policy': {
        const { values, positionals } = parseCommand(rest, { name: { type: 'string' } }, ['role']);
        const out = await kindlingApi<{ PolicyDocument: string }>(values, 'GET', path(positionals[0]!, values.name ?? DEFAULT_POLICY));
        process.stdout.write(`${out.PolicyDocument.trimEnd()}\n`);
        return 0;
      }
      case 'rm-policy': {
        const { values, positionals } = parseCommand(rest, { name: { type: 'string' } }, ['role']);
        const policy = values.name ?? DEFAULT_POLICY;
        await kindlingApi(values, 'DELETE', path(positionals[0]!, policy));
        process.stdout.write(`Removed policy ${policy} from role ${roleName(positionals[0]!)}\n`);
        return 0;
      }
      default:
        throw new UsageError(verb === undefined ? 'say what to do: ls, put-policy, get-policy or rm-policy' : `unknown roles command '${verb}'`);
    }
  },
};
