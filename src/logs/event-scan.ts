import type { LogEventQuery, LogEventRecord, LogPosition, LogTables } from '../store/index.js';

/** CloudWatch Logs' cap on one GetLogEvents / FilterLogEvents response, besides the event count. */
export const RESPONSE_BYTES = 1024 * 1024;
/** CloudWatch counts each event as its UTF-8 message plus 26 bytes. */
const EVENT_OVERHEAD = 26;
/** Events read from the store per query: memory stays bounded even with 256 KB events. */
const SCAN_BATCH = 200;

export interface ScanResult {
  /** In the query's order (newest first when descending). */
  events: LogEventRecord[];
  /** Where to go on from (the last event consumed) when anything may be left; absent at the end. */
  resume?: LogPosition;
}

/**
 * Reads a query's events in batches until `query.limit` of them matched, the response is full
 * (RESPONSE_BYTES), `budget` events were examined, or the events ran out.
 */
export async function scanEvents(
  logs: LogTables,
  query: LogEventQuery,
  matches: (event: LogEventRecord) => boolean,
  budget: number,
): Promise<ScanResult> {
  const events: LogEventRecord[] = [];
  let bytes = 0;
  let examined = 0;
  let from = query.from;
  while (examined < budget) {
    const want = Math.min(SCAN_BATCH, budget - examined);
    const batch = await logs.queryEvents({ ...query, ...(from ? { from } : {}), limit: want });
    for (const event of batch) {
      if (matches(event)) {
        const size = Buffer.byteLength(event.message) + EVENT_OVERHEAD;
        // The first event always fits, however large: a client must be able to make progress.
        if (events.length > 0 && bytes + size > RESPONSE_BYTES) return { events, ...(from ? { resume: from } : {}) };
        events.push(event);
        bytes += size;
      }
      examined++;
      from = event;
      if (events.length === query.limit) {
        const more = (await logs.queryEvents({ ...query, from: event, limit: 1 })).length > 0;
        return { events, ...(more ? { resume: event } : {}) };
      }
    }
    if (batch.length < want) return { events };
  }
  return { events, ...(from ? { resume: from } : {}) };
}
