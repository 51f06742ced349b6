// The MetadataStore aggregate over a SqlDatabase: one implementation of every store for both
// dialects, plus schema setup and the persisted cluster id.

import { randomBytes } from 'node:crypto';
import { migrate } from './migrations.js';
import type { SqlDatabase } from './sql.js';
import type { MetadataStore } from './types.js';
import { SqlTopicStore } from './topics.js';
import { SqlPartitionStore } from './partitions.js';
import { SqlSegmentStore } from './segments.js';
import { SqlGroupOffsetStore } from './group-offsets.js';
import { SqlProducerIdStore } from './producer-ids.js';
import { SqlKeyValueStore } from './kv.js';
import { SqlLeaseStore } from './leases.js';
import { SqlSchemaStore } from './schemas.js';
import { SqlAgentStore } from './agents.js';

/** Applies pending migrations and returns the cluster id, creating it on the very first start. */
export async function initializeSchema(db: SqlDatabase): Promise<string> {
  await migrate(db);
  // Kafka's form: a random uuid's 16 bytes in url-safe base64 without padding.
  const candidate = randomBytes(16).toString('base64url');
  await db.run('INSERT INTO cluster_info (id, cluster_id) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [candidate]);
  const rows = await db.all('SELECT cluster_id FROM cluster_info WHERE id = 1');
  return String(rows[0]!.cluster_id);
}

export class SqlMetadataStore implements MetadataStore {
  readonly backend: 'sqlite' | 'postgres';
  readonly topics: SqlTopicStore;
  readonly partitions: SqlPartitionStore;
  readonly segments: SqlSegmentStore;
  readonly offsets: SqlGroupOffsetStore;
  readonly producerIds: SqlProducerIdStore;
  readonly kv: SqlKeyValueStore;
  readonly leases: SqlLeaseStore;
  readonly schemas: SqlSchemaStore;
  readonly agents: SqlAgentStore;

  constructor(
    private readonly db: SqlDatabase,
    private readonly clusterId: string,
  ) {
    this.backend = db.dialect.name;
    this.topics = new SqlTopicStore(db);
    this.partitions = new SqlPartitionStore(db);
    this.segments = new SqlSegmentStore(db);
    this.offsets = new SqlGroupOffsetStore(db);
    this.producerIds = new SqlProducerIdStore(db);
    this.kv = new SqlKeyValueStore(db);
    this.leases = new SqlLeaseStore(db);
    this.schemas = new SqlSchemaStore(db);
    this.agents = new SqlAgentStore(db);
  }

  getClusterId(): string {
    return this.clusterId;
  }

  async ping(): Promise<void> {
    await this.db.all('SELECT 1 AS ok');
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
