import { parseCommand, UsageError } from '../args.js';
import { kindlingApi } from '../kindling-api.js';
import { formatTable } from '../table.js';
import type { Command } from './command.js';

interface Node {
  Id: string;
  Roles: string[];
  Address: string;
  State: string;
  Environments: number;
  IdleEnvironments: number;
  Busy: number;
  StartedAt: string;
  LeaseEndsAt?: string;
}

/** `kindling cluster ls`: the fleet's nodes, their roles, addresses, health, environments, age and lease end. */
export const cluster: Command = {
  usage: ['cluster ls [--endpoint URL] [--region R]'],
  summary: "list the fleet's nodes",
  async run(argv) {
    const [verb, ...rest] = argv;
    if (verb !== 'ls') throw new UsageError(verb === undefined ? 'say what to do: ls' : `unknown cluster command '${verb}'`);
    const { values } = parseCommand(rest, {}, []);
    const { Nodes } = await kindlingApi<{ Nodes: Node[] }>(values, 'GET', '/kindling/cluster/nodes');
    process.stdout.write(formatNodes(Nodes, Date.now()));
    return 0;
  },
};

export function formatNodes(nodes: readonly Node[], now: number): string {
  return formatTable([
    ['NODE', 'ROLES', 'ADDRESS', 'STATE', 'ENVIRONMENTS', 'BUSY', 'AGE', 'LEASE ENDS'],
    ...nodes.map((n) => [
      n.Id,
      n.Roles.join(','),
      n.Address,
      n.State,
      `${n.Environments} (${n.IdleEnvironments} idle)`,
      String(n.Busy),
      duration(now - Date.parse(n.StartedAt)),
      n.LeaseEndsAt ? `in ${duration(Date.parse(n.LeaseEndsAt) - now)}` : '-',
    ]),
  ]);
}

/** `3h12m`, `4m05s`, `12s`. */
function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
