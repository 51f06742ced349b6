// SegmentStore over SQL. The commit is the fencing point of the write path: the segment row is
// written only if the committing agent's leader epoch is still the partition's.

import { FencedError, SegmentOverlapError, UnknownTopicOrPartitionError } from './errors.js';
import type { Row, SqlDatabase } from './sql.js';
import { toBigInt, toNumber } from './sql.js';
import type { NewSegment, ProducerStateSnapshot, SegmentRecord, SegmentStore } from './types.js';

export const SEGMENT_COLUMNS =
  'topic_id, partition_index, base_offset, last_offset, size_bytes, max_timestamp, object_key, leader_epoch, records_epoch, created_at';

export function segmentFromRow(r: Row): SegmentRecord {
  return {
    topicId: String(r.topic_id),
    partition: toNumber(r.partition_index),
    baseOffset: toBigInt(r.base_offset),
    lastOffset: toBigInt(r.last_offset),
    sizeBytes: toNumber(r.size_bytes),
    maxTimestamp: toBigInt(r.max_timestamp),
    objectKey: String(r.object_key),
    leaderEpoch: toNumber(r.leader_epoch),
    ...(r.records_epoch !== null && r.records_epoch !== undefined ? { recordsEpoch: toNumber(r.records_epoch) } : {}),
    createdAt: toNumber(r.created_at),
  };
}

export class SqlSegmentStore implements SegmentStore {
  constructor(private readonly db: SqlDatabase) {}

  async commitSegment(s: NewSegment): Promise<void> {
    if (s.baseOffset < 0n || s.lastOffset < s.baseOffset) {
      throw new RangeError(`segment offsets must satisfy 0 <= baseOffset <= lastOffset, got [${s.baseOffset}, ${s.lastOffset}]`);
    }
    const topicId = s.topicId.toLowerCase();
    await this.db.transaction(async (tx) => {
      // Locking the partition row serializes commits (and lease changes) of this partition.
      const part = await tx.all(
        `SELECT leader_epoch, leader_agent FROM partitions WHERE topic_id = $1 AND partition_index = $2${tx.dialect.forUpdate}`,
        [topicId, s.partition],
      );
      if (part.length === 0) throw new UnknownTopicOrPartitionError(topicId, s.partition);
      const currentEpoch = toNumber(part[0]!.leader_epoch);
      if (currentEpoch !== s.leaderEpoch) throw new FencedError(topicId, s.partition, s.leaderEpoch, currentEpoch);
      // A lease released (holder NULL) keeps its epoch, so the epoch alone would let its old holder in.
      if (s.agentId !== undefined && part[0]!.leader_agent !== s.agentId) {
        throw new FencedError(topicId, s.partition, s.leaderEpoch, currentEpoch, `held by ${String(part[0]!.leader_agent ?? 'nobody')}, not ${s.agentId}`);
      }
      const overlapping = await tx.all(
        `SELECT object_key, base_offset, last_offset FROM segments
         WHERE topic_id = $1 AND partition_index = $2 AND base_offset <= $3 AND last_offset >= $4
         ORDER BY base_offset LIMIT 1`,
        [topicId, s.partition, s.lastOffset, s.baseOffset],
      );
      if (overlapping.length > 0) {
        const o = overlapping[0]!;
        const sameCommit =
          o.object_key === s.objectKey && toBigInt(o.base_offset) === s.baseOffset && toBigInt(o.last_offset) === s.lastOffset;
        if (sameCommit) return; // a retried commit that had in fact succeeded
        throw new SegmentOverlapError(topicId, s.partition, s.baseOffset, s.lastOffset, String(o.object_key));
      }
      await tx.run(
        `INSERT INTO segments (topic_id, partition_index, base_offset, last_offset, size_bytes, max_timestamp,
                               object_key, leader_epoch, created_at, producer_state, agent_id, records_epoch)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          topicId,
          s.partition,
          s.baseOffset,
          s.lastOffset,
          s.sizeBytes,
          s.maxTimestamp,
          s.objectKey,
          s.leaderEpoch,
          s.createdAt,
          s.producerStateSnapshot ?? null,
          s.agentId ?? null,
          s.recordsEpoch ?? null,
        ],
      );
    });
  }

  async listSegments(topicId: string, partition: number): Promise<SegmentRecord[]> {
    const rows = await this.db.all(
      `SELECT ${SEGMENT_COLUMNS} FROM segments WHERE topic_id = $1 AND partition_index = $2 ORDER BY base_offset`,
      [topicId.toLowerCase(), partition],
    );
    return rows.map(segmentFromRow);
  }

  async deleteSegments(topicId: string, partition: number, objectKeys: string[]): Promise<number> {
    if (objectKeys.length === 0) return 0;
    const id = topicId.toLowerCase();
    return this.db.transaction(async (tx) => {
      let removed = 0;
      for (const key of objectKeys) {
        removed += await tx.run('DELETE FROM segments WHERE topic_id = $1 AND partition_index = $2 AND object_key = $3', [
          id,
          partition,
          key,
        ]);
      }
      return removed;
    });
  }

  async segmentsBelow(topicId: string, partition: number, offset: bigint): Promise<SegmentRecord[]> {
    const rows = await this.db.all(
      `SELECT ${SEGMENT_COLUMNS} FROM segments
       WHERE topic_id = $1 AND partition_index = $2 AND last_offset < $3 ORDER BY base_offset`,
      [topicId.toLowerCase(), partition, offset],
    );
    return rows.map(segmentFromRow);
  }

  async nextOffset(topicId: string, partition: number): Promise<bigint> {
    const id = topicId.toLowerCase();
    const rows = await this.db.all(
      `SELECT p.log_start_offset AS log_start_offset,
              (SELECT MAX(s.last_offset) FROM segments s
               WHERE s.topic_id = p.topic_id AND s.partition_index = p.partition_index) AS last_offset
       FROM partitions p WHERE p.topic_id = $1 AND p.partition_index = $2`,
      [id, partition],
    );
    if (rows.length === 0) throw new UnknownTopicOrPartitionError(id, partition);
    const logStart = toBigInt(rows[0]!.log_start_offset);
    const last = rows[0]!.last_offset;
    if (last === null || last === undefined) return logStart;
    const next = toBigInt(last) + 1n;
    return next > logStart ? next : logStart;
  }

  async latestProducerState(topicId: string, partition: number): Promise<ProducerStateSnapshot | null> {
    const rows = await this.db.all(
      `SELECT last_offset, producer_state FROM segments
       WHERE topic_id = $1 AND partition_index = $2 AND producer_state IS NOT NULL
       ORDER BY base_offset DESC LIMIT 1`,
      [topicId.toLowerCase(), partition],
    );
    if (rows.length === 0) return null;
    return { lastOffset: toBigInt(rows[0]!.last_offset), snapshot: rows[0]!.producer_state as Buffer };
  }
}
