import type { FunctionRegistry } from '../control-plane/index.js';
import type { DeadLetterService, QueueMetrics } from '../queue/index.js';
import { bareName, InvalidParameterValueException, NODE_DEAD_AFTER_MS, parseFunctionRef, type Partition, type WorkerInventory } from '../shared/index.js';
import type { DeadLetter, EventQueueTable, NodeStatus, NodeTable } from '../store/index.js';
import { readJson, sendJson } from './http-io.js';
import { KINDLING_SERVICES, onAny, onFunction } from './route-access.js';
import type { Router } from './router.js';

export interface KindlingRoutesDeps {
  registry: FunctionRegistry;
  deadLetters: DeadLetterService;
  metrics: QueueMetrics;
  events: EventQueueTable;
  partition: Partition;
  /** The fleet's node registry (`kindling cluster ls`). */
  nodes: NodeTable;
}

function letterShape(letter: DeadLetter, withBody: boolean): Record<string, unknown> {
  return {
    Id: letter.id,
    Kind: letter.kind,
    ...(letter.queueName ? { Queue: letter.queueName } : {}),
    FunctionName: bareName(letter.sourceFunction),
    Qualifier: letter.qualifier,
    RequestId: letter.requestId,
    Condition: letter.condition,
    Reason: letter.reason,
    Attempts: letter.attempts,
    EnqueuedAt: new Date(letter.enqueuedAt).toISOString(),
    FailedAt: new Date(letter.failedAt).toISOString(),
    ...(withBody ? { Body: letter.body.toString('utf8'), RequestPayload: letter.requestPayload.toString('utf8') } : {}),
  };
}

function nodeShape(node: NodeStatus): Record<string, unknown> {
  let inventory: Partial<WorkerInventory> = {};
  try {
    inventory = JSON.parse(node.inventory) as Partial<WorkerInventory>;
  } catch {
    // An unreadable inventory shows as none.
  }
  const pools = Object.values(inventory.pools ?? {});
  return {
    Id: node.id,
    Roles: node.roles,
    Address: node.address,
    State: node.silentMs > NODE_DEAD_AFTER_MS ? 'down' : node.state,
    Cores: node.cores,
    MemoryMb: node.memoryMb,
    Drivers: node.drivers,
    Environments: pools.reduce((sum, pool) => sum + pool.environments, 0),
    IdleEnvironments: pools.reduce((sum, pool) => sum + pool.idle, 0),
    Busy: inventory.busy ?? 0,
    StartedAt: new Date(node.startedAt).toISOString(),
    LastHeartbeat: new Date(node.heartbeatAt).toISOString(),
    SilentMs: node.silentMs,
    ...(node.leaseEndsAt === undefined ? {} : { LeaseEndsAt: new Date(node.leaseEndsAt).toISOString() }),
  };
}

/**
 * Kindling's own HTTP API under `/kindling/` (what Lambda has no API for): the dead-letter store
 * of a function (list, show, redrive) and its asynchronous metrics.
 */
export function kindlingRoutes(router: Router, deps: KindlingRoutesDeps): void {
  /** The function's key: the caller's function for a bare name, the ARN's account's otherwise. */
  const name = (raw: string, account: string) => deps.registry.getByName(parseFunctionRef(raw, deps.partition, undefined, undefined, account).name).name;
  router
    .on('GET', /^\/kindling\/functions\/([^/]+)\/dead-letters\/?$/, onFunction('kindling:ListDeadLetters', { services: KINDLING_SERVICES }), async ({ caller, res, params, query, requestId }) => {
      const fn = name(params[0]!, caller.accountId);
      const letters = await deps.deadLetters.list(fn, { afterId: Number(query.get('After') ?? 0) || 0, limit: 1000 });
      sendJson(res, 200, { DeadLetters: letters.map((l) => letterShape(l, false)) }, requestId);
    })
    .on('GET', /^\/kindling\/functions\/([^/]+)\/dead-letters\/(\d+)\/?$/, onFunction('kindling:GetDeadLetter', { services: KINDLING_SERVICES }), async ({ caller, res, params, requestId }) => {
      sendJson(res, 200, letterShape(await deps.deadLetters.get(name(params[0]!, caller.accountId), Number(params[1])), true), requestId);
    })
    .on('POST', /^\/kindling\/functions\/([^/]+)\/dead-letters\/redrive\/?$/, onFunction('kindling:RedriveDeadLetters', { services: KINDLING_SERVICES }), async ({ caller, req, res, params, requestId }) => {
      const fn = name(params[0]!, caller.accountId);
      const body = await readJson(req, 64 * 1024, 'Redrive');
      const ids = body['Ids'] ?? [];
      if (!Array.isArray(ids) || !ids.every((id) => Number.isInteger(id))) {
        throw new InvalidParameterValueException('Ids must be a list of dead-letter ids (integers); leave it out to redrive them all.');
      }
      const result = await deps.deadLetters.redrive(fn, ids as number[]);
      sendJson(res, 200, { Redriven: result.redriven.map((r) => ({ Id: r.id, RequestId: r.requestId })) }, requestId);
    })
    .on('GET', /^\/kindling\/cluster\/nodes\/?$/, onAny('kindling:ListNodes', KINDLING_SERVICES), async ({ res, requestId }) => {
      const nodes = await deps.nodes.list();
      sendJson(res, 200, { Nodes: nodes.map(nodeShape) }, requestId);
    })
    .on('GET', /^\/kindling\/functions\/([^/]+)\/metrics\/?$/, onFunction('kindling:GetFunctionMetrics', { services: KINDLING_SERVICES }), async ({ caller, res, params, requestId }) => {
      const fn = name(params[0]!, caller.accountId);
      const queued = await deps.events.count(fn);
      const dropped = await deps.deadLetters.countDropped(fn);
      sendJson(
        res,
        200,
        {
          FunctionName: bareName(fn),
          // Counts since the server started, except the two read from the store.
          ...deps.metrics.of(fn),
          AsyncEventsQueued: queued,
          DroppedEventsKept: dropped,
        },
        requestId,
      );
    });
}
