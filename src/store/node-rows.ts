import type { NodeRecord, NodeStatus } from './types.js';

/** A `nodes` row as both stores read it: columns named as the record's fields, JSON as text. */
export interface NodeRow {
  id: string;
  roles: string;
  address: string;
  cores: number;
  memoryMb: number;
  drivers: string;
  startedAt: number;
  leaseEndsAt: number | null;
  state: NodeRecord['state'];
  inventory: string;
  heartbeatAt: number;
}

/** A row as a NodeStatus: JSON columns parsed, a NULL lease left out (absent, not null). */
export function nodeStatus(row: NodeRow, silentMs: number): NodeStatus {
  const { leaseEndsAt, roles, drivers, ...rest } = row;
  return {
    ...rest,
    roles: JSON.parse(roles) as NodeRecord['roles'],
    drivers: JSON.parse(drivers) as string[],
    ...(leaseEndsAt === null ? {} : { leaseEndsAt }),
    silentMs,
  };
}
