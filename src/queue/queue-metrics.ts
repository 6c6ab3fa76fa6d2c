/** Per-function counters of the asynchronous path, named after Lambda's CloudWatch metrics. */
export interface AsyncMetrics {
  AsyncEventsReceived: number;
  AsyncEventsDropped: number;
  AsyncEventsDeadLettered: number;
  DestinationDeliveries: number;
  Retries: number;
}

export class QueueMetrics {
  readonly #byFunction = new Map<string, AsyncMetrics>();

  add(functionName: string, metric: keyof AsyncMetrics, count = 1): void {
    let metrics = this.#byFunction.get(functionName);
    if (!metrics) {
      metrics = { AsyncEventsReceived: 0, AsyncEventsDropped: 0, AsyncEventsDeadLettered: 0, DestinationDeliveries: 0, Retries: 0 };
      this.#byFunction.set(functionName, metrics);
    }
    metrics[metric] += count;
  }

  /** Counts since the server started. */
  of(functionName: string): AsyncMetrics {
    return { ...(this.#byFunction.get(functionName) ?? { AsyncEventsReceived: 0, AsyncEventsDropped: 0, AsyncEventsDeadLettered: 0, DestinationDeliveries: 0, Retries: 0 }) };
  }
}
