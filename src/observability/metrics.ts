// Prometheus metrics of one agent. Each agent owns its own prom-client Registry (never the
// global default), so a test process can run several agents and read each one's numbers.
// Modules do not import prom-client: they call the small recording methods below, or register
// a source that is read at scrape time (pool stats, group lag, WAL queue depth), which keeps the
// hot path to one counter increment and keeps expensive figures off it entirely.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { requestsByApiKey } from '../protocol/generated/index.js';

export type Outcome = 'ok' | 'error';

export interface PoolStatsSource {
  poolStats(): { total: number; idle: number; waiting: number };
}

export interface GroupLag {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

/** Kafka request latencies span sub-millisecond metadata calls to long-polled fetches. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const FSYNC_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

const apiNames = new Map<number, string>(
  [...requestsByApiKey].map(([key, d]) => [key, d.name.replace(/Request$/, '')]),
);

export function apiName(apiKey: number): string {
  return apiNames.get(apiKey) ?? `api_${apiKey}`;
}

export class BrokerMetrics {
  readonly registry = new Registry();

  private readonly requests = new Counter({
    name: 'streamhouse_requests_total',
    help: 'Kafka requests answered, by API, version and outcome (error = failed as a whole or unsupported).',
    labelNames: ['api', 'version', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly requestSeconds = new Histogram({
    name: 'streamhouse_request_duration_seconds',
    help: 'Time from a request frame being decoded to its response being ready, by API.',
    labelNames: ['api'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly bytesIn = new Counter({
    name: 'streamhouse_network_received_bytes_total',
    help: 'Bytes read from Kafka client connections.',
    registers: [this.registry],
  });
  private readonly bytesOut = new Counter({
    name: 'streamhouse_network_sent_bytes_total',
    help: 'Bytes written to Kafka client connections.',
    registers: [this.registry],
  });
  private readonly connectionsOpen = new Gauge({
    name: 'streamhouse_connections',
    help: 'Open Kafka client connections.',
    registers: [this.registry],
  });
  private readonly connectionsAccepted = new Counter({
    name: 'streamhouse_connections_accepted_total',
    help: 'Kafka client connections accepted since start.',
    registers: [this.registry],
  });
  private readonly producedBytes = new Counter({
    name: 'streamhouse_topic_produced_bytes_total',
    help: 'Record batch bytes appended by Produce, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  private readonly producedRecords = new Counter({
    name: 'streamhouse_topic_produced_records_total',
    help: 'Records appended by Produce, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  private readonly fetchedBytes = new Counter({
    name: 'streamhouse_topic_fetched_bytes_total',
    help: 'Record batch bytes returned by Fetch, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  private readonly walFsync = new Histogram({
    name: 'streamhouse_wal_fsync_duration_seconds',
    help: 'Duration of each WAL fsync (one covers every partition: group commit).',
    buckets: FSYNC_BUCKETS,
    registers: [this.registry],
  });
  private readonly segmentUploads = new Counter({
    name: 'streamhouse_segment_uploads_total',
    help: 'Segment uploads to the object store, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly segmentUploadBytes = new Counter({
    name: 'streamhouse_segment_uploaded_bytes_total',
    help: 'Bytes of segments uploaded successfully.',
    registers: [this.registry],
  });
  private readonly objectRequests = new Counter({
    name: 'streamhouse_object_store_requests_total',
    help: 'Object store request attempts, by operation and outcome (retry = failed attempt that was retried).',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly objectSeconds = new Histogram({
    name: 'streamhouse_object_store_request_duration_seconds',
    help: 'Duration of object store request attempts, by operation.',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly cacheHits = new Counter({
    name: 'streamhouse_block_cache_hits_total',
    help: 'Segment block reads served from the block cache.',
    registers: [this.registry],
  });
  private readonly cacheMisses = new Counter({
    name: 'streamhouse_block_cache_misses_total',
    help: 'Segment block reads that went to the object store.',
    registers: [this.registry],
  });

  private poolSource: PoolStatsSource | undefined;
  private walQueueSource: (() => number) | undefined;
  private lagSource: (() => Promise<GroupLag[]> | GroupLag[]) | undefined;
  private hits = 0;
  private misses = 0;

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry });
    const self = this;
    new Gauge({
      name: 'streamhouse_block_cache_hit_ratio',
      help: 'Block cache hits / (hits + misses) since start; 0 before the first read.',
      registers: [this.registry],
      collect() {
        const total = self.hits + self.misses;
        this.set(total === 0 ? 0 : self.hits / total);
      },
    });
    new Gauge({
      name: 'streamhouse_wal_queue_depth',
      help: 'WAL appends queued for writing or waiting for an fsync.',
      registers: [this.registry],
      collect() {
        if (self.walQueueSource) this.set(self.walQueueSource());
      },
    });
    new Gauge({
      name: 'streamhouse_metadata_pool_connections',
      help: 'Metadata store (PostgreSQL) pool connections by state; absent for the embedded store.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const s = self.poolSource?.poolStats();
        if (!s) return;
        this.set({ state: 'active' }, s.total - s.idle);
        this.set({ state: 'idle' }, s.idle);
        this.set({ state: 'waiting' }, s.waiting);
      },
    });
    new Gauge({
      name: 'streamhouse_consumer_group_lag',
      help: 'High watermark minus committed offset, per group and partition.',
      labelNames: ['group', 'topic', 'partition'] as const,
      registers: [this.registry],
      async collect() {
        if (!self.lagSource) return;
        this.reset();
        for (const l of await self.lagSource()) {
          this.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
        }
      },
    });
  }

  // --- recorders, called by the server, handlers, log, WAL and object store -----------------

  request(apiKey: number, version: number, seconds: number, errored: boolean): void {
    const api = apiName(apiKey);
    this.requests.inc({ api, version: String(version), outcome: errored ? 'error' : 'ok' });
    this.requestSeconds.observe({ api }, seconds);
  }

  received(bytes: number): void {
    this.bytesIn.inc(bytes);
  }

  sent(bytes: number): void {
    this.bytesOut.inc(bytes);
  }

  connectionCount(open: number, accepted: boolean): void {
    this.connectionsOpen.set(open);
    if (accepted) this.connectionsAccepted.inc();
  }

  produced(topic: string, bytes: number, records: number): void {
    this.producedBytes.inc({ topic }, bytes);
    this.producedRecords.inc({ topic }, records);
  }

  fetched(topic: string, bytes: number): void {
    this.fetchedBytes.inc({ topic }, bytes);
  }

  walSync(seconds: number): void {
    this.walFsync.observe(seconds);
  }

  segmentUpload(outcome: Outcome, bytes = 0): void {
    this.segmentUploads.inc({ outcome });
    if (outcome === 'ok' && bytes > 0) this.segmentUploadBytes.inc(bytes);
  }

  objectStoreRequest(operation: string, outcome: string, seconds: number): void {
    this.objectRequests.inc({ operation, outcome });
    this.objectSeconds.observe({ operation }, seconds);
  }

  cacheHit(): void {
    this.hits++;
    this.cacheHits.inc();
  }

  cacheMiss(): void {
    this.misses++;
    this.cacheMisses.inc();
  }

  // --- sources read at scrape time ---------------------------------------------------------

  setPoolStatsSource(source: PoolStatsSource | undefined): void {
    this.poolSource = source;
  }

  setWalQueueDepthSource(source: () => number): void {
    this.walQueueSource = source;
  }

  setGroupLagSource(source: () => Promise<GroupLag[]> | GroupLag[]): void {
    this.lagSource = source;
  }

  /** Prometheus text exposition. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** True when the store exposes pool statistics (the PostgreSQL store does). */
export function hasPoolStats(x: unknown): x is PoolStatsSource {
  return typeof (x as PoolStatsSource | null)?.poolStats === 'function';
}
