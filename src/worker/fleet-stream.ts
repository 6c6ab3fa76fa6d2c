import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { FLEET_HEADERS, whenDrained } from '../shared/index.js';
import type { InvokeResult, ResponseSink } from './invoke-types.js';

/** The result's fields as the fleet wire carries them: headers of a whole answer, trailers of a streamed one. */
export function resultFields(result: InvokeResult, environments: number | undefined): OutgoingHttpHeaders {
  const fields: OutgoingHttpHeaders = { [FLEET_HEADERS.executedVersion]: result.executedVersion };
  if (result.functionError) fields[FLEET_HEADERS.functionError] = '1';
  if (result.log !== undefined) fields[FLEET_HEADERS.log] = Buffer.from(result.log).toString('base64');
  if (environments !== undefined) fields[FLEET_HEADERS.environments] = String(environments);
  return fields;
}

const TRAILERS = [FLEET_HEADERS.executedVersion, FLEET_HEADERS.functionError, FLEET_HEADERS.log, FLEET_HEADERS.environments, FLEET_HEADERS.errorBody].join(', ');

/**
 * A worker's streamed answer: status and headers when the function starts streaming, each chunk as
 * it is written (chunked encoding), the result in trailers at the end. A function that answers
 * whole never starts it, and the worker answers as for any invoke.
 */
export class FleetStreamAnswer implements ResponseSink {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  get started(): boolean {
    return this.#res.headersSent;
  }

  start(contentType: string): void {
    if (this.#res.headersSent) return;
    this.#res.writeHead(200, { [FLEET_HEADERS.stream]: contentType, trailer: TRAILERS });
  }

  write(chunk: Buffer): boolean {
    return this.#res.destroyed || this.#res.write(chunk);
  }

  drained(listener: () => void): void {
    whenDrained(this.#res, listener);
  }

  end(result: InvokeResult, environments: number | undefined): void {
    const trailers = resultFields(result, environments);
    if (result.payload.length > 0) trailers[FLEET_HEADERS.errorBody] = result.payload.toString('base64');
    this.#res.addTrailers(trailers as Record<string, string>);
    this.#res.end();
  }
}
