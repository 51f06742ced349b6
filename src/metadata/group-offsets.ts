// GroupOffsetStore over SQL: committed consumer-group offsets, keyed by group, topic name, partition.

import type { Row, SqlDatabase } from './sql.js';
import { checkLeaseFence, toBigInt, toNumber, toNumberOrNull, toStringOrNull } from './sql.js';
import type { CommittedOffset, GroupOffsetStore, LeaseFence, OffsetCommit, TopicPartitions } from './types.js';

const COLUMNS = 'topic, partition_index, committed_offset, leader_epoch, metadata, commit_timestamp, expire_timestamp';

function offsetFromRow(r: Row): CommittedOffset {
  return {
    topic: String(r.topic),
    partition: toNumber(r.partition_index),
    offset: toBigInt(r.committed_offset),
    leaderEpoch: toNumber(r.leader_epoch),
    metadata: toStringOrNull(r.metadata),
    commitTimestamp: toNumber(r.commit_timestamp),
    expireTimestamp: toNumberOrNull(r.expire_timestamp),
  };
}

export class SqlGroupOffsetStore implements GroupOffsetStore {
  constructor(private readonly db: SqlDatabase) {}

  async commitOffsets(groupId: string, offsets: OffsetCommit[], fence?: LeaseFence): Promise<void> {
    if (offsets.length === 0) return;
    await this.db.transaction(async (tx) => {
      if (fence) await checkLeaseFence(tx, fence);
      for (const o of offsets) {
        await tx.run(
          `INSERT INTO group_offsets (group_id, topic, partition_index, committed_offset, leader_epoch, metadata,
                                      commit_timestamp, expire_timestamp)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (group_id, topic, partition_index) DO UPDATE SET
             committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch,
             metadata = excluded.metadata, commit_timestamp = excluded.commit_timestamp,
             expire_timestamp = excluded.expire_timestamp`,
          [
            groupId,
            o.topic,
            o.partition,
            o.offset,
            o.leaderEpoch,
            o.metadata,
            o.commitTimestamp,
            o.expireTimestamp ?? null,
          ],
        );
      }
    });
  }

  async fetchOffsets(groupId: string, topics?: TopicPartitions[]): Promise<CommittedOffset[]> {
    if (topics === undefined) {
      const rows = await this.db.all(
        `SELECT ${COLUMNS} FROM group_offsets WHERE group_id = $1 ORDER BY topic, partition_index`,
        [groupId],
      );
      return rows.map(offsetFromRow);
    }
    const out: CommittedOffset[] = [];
    for (const t of [...topics].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))) {
      const rows = await this.db.all(
        `SELECT ${COLUMNS} FROM group_offsets WHERE group_id = $1 AND topic = $2 ORDER BY partition_index`,
        [groupId, t.topic],
      );
      const wanted = t.partitions ? new Set(t.partitions) : null;
      for (const r of rows) {
        const o = offsetFromRow(r);
        if (!wanted || wanted.has(o.partition)) out.push(o);
      }
    }
    return out;
  }

  async deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<number> {
    if (partitions.length === 0) return 0;
    return this.db.transaction(async (tx) => {
      let removed = 0;
      for (const p of partitions) {
        removed += await tx.run('DELETE FROM group_offsets WHERE group_id = $1 AND topic = $2 AND partition_index = $3', [
          groupId,
          p.topic,
          p.partition,
        ]);
      }
      return removed;
    });
  }

  deleteGroupOffsets(groupId: string): Promise<number> {
    return this.db.run('DELETE FROM group_offsets WHERE group_id = $1', [groupId]);
  }

  async listGroupsWithOffsets(): Promise<string[]> {
    const rows = await this.db.all('SELECT DISTINCT group_id FROM group_offsets ORDER BY group_id');
    return rows.map((r) => String(r.group_id));
  }

  deleteExpiredOffsets(nowMs: number): Promise<number> {
    return this.db.run('DELETE FROM group_offsets WHERE expire_timestamp IS NOT NULL AND expire_timestamp < $1', [nowMs]);
  }
}
