// What the log layer reports to the agent's metrics. BrokerMetrics (src/observability/metrics.ts)
// satisfies it; the log layer never imports prom-client.
export interface LogMetrics {
  /** One segment upload attempt ended: its object put and its row commit. */
  segmentUpload(outcome: 'ok' | 'error', bytes?: number): void;
  /** A segment block read was served from the block cache. */
  cacheHit(): void;
  /** A segment block read went to the object store. */
  cacheMiss(): void;
}
