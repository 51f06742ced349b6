// PartitionStore over SQL. The leadership columns are written by the lease store (leases.ts).

import { UnknownTopicOrPartitionError } from './errors.js';
import type { Row, SqlDatabase } from './sql.js';
import { toBigInt, toNumber, toNumberOrNull, toStringOrNull } from './sql.js';
import type { PartitionRecord, PartitionStore } from './types.js';

const COLUMNS = 'topic_id, partition_index, log_start_offset, leader_epoch, leader_agent, lease_expires_at';

function partitionFromRow(r: Row): PartitionRecord {
  return {
    topicId: String(r.topic_id),
    partition: toNumber(r.partition_index),
    logStartOffset: toBigInt(r.log_start_offset),
    leaderEpoch: toNumber(r.leader_epoch),
    leaderAgent: toStringOrNull(r.leader_agent),
    leaseExpiresAt: toNumberOrNull(r.lease_expires_at),
  };
}

export class SqlPartitionStore implements PartitionStore {
  constructor(private readonly db: SqlDatabase) {}

  async getPartition(topicId: string, partition: number): Promise<PartitionRecord | null> {
    const rows = await this.db.all(`SELECT ${COLUMNS} FROM partitions WHERE topic_id = $1 AND partition_index = $2`, [
      topicId.toLowerCase(),
      partition,
    ]);
    return rows.length ? partitionFromRow(rows[0]!) : null;
  }

  async setLogStartOffset(topicId: string, partition: number, offset: bigint): Promise<bigint> {
    const id = topicId.toLowerCase();
    // One statement, so concurrent callers cannot move it backwards between a read and a write.
    await this.db.run(
      `UPDATE partitions SET log_start_offset = $3
       WHERE topic_id = $1 AND partition_index = $2 AND log_start_offset < $3`,
      [id, partition, offset],
    );
    const rows = await this.db.all(
      'SELECT log_start_offset FROM partitions WHERE topic_id = $1 AND partition_index = $2',
      [id, partition],
    );
    if (rows.length === 0) throw new UnknownTopicOrPartitionError(id, partition);
    return toBigInt(rows[0]!.log_start_offset);
  }

  async listAllPartitions(): Promise<PartitionRecord[]> {
    const rows = await this.db.all(`SELECT ${COLUMNS} FROM partitions ORDER BY topic_id, partition_index`);
    return rows.map(partitionFromRow);
  }

  async listPartitions(topicId: string): Promise<PartitionRecord[]> {
    const rows = await this.db.all(`SELECT ${COLUMNS} FROM partitions WHERE topic_id = $1 ORDER BY partition_index`, [
      topicId.toLowerCase(),
    ]);
    return rows.map(partitionFromRow);
  }
}
