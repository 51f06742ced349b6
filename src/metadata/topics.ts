// TopicStore over SQL. A topic row and its partition rows are created and removed together.

import { InvalidPartitionsError, TopicExistsError, UnknownTopicError } from './errors.js';
import { segmentFromRow, SEGMENT_COLUMNS } from './segments.js';
import type { Row, SqlDatabase, SqlExecutor } from './sql.js';
import { toNumber } from './sql.js';
import type { NewTopic, SegmentRecord, TopicRecord, TopicStore } from './types.js';

function topicFromRow(r: Row): TopicRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    partitions: toNumber(r.partitions),
    configs: JSON.parse(String(r.configs)) as Record<string, string>,
  };
}

function checkPartitionCount(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 0x7fffffff) {
    throw new InvalidPartitionsError(`partition count must be a positive 32-bit integer, got ${n}`);
  }
}

async function insertPartitions(tx: SqlExecutor, topicId: string, from: number, to: number): Promise<void> {
  for (let p = from; p < to; p++) {
    await tx.run(
      `INSERT INTO partitions (topic_id, partition_index, log_start_offset, leader_epoch, leader_agent, lease_expires_at)
       VALUES ($1, $2, 0, 0, NULL, NULL)`,
      [topicId, p],
    );
  }
}

export class SqlTopicStore implements TopicStore {
  constructor(private readonly db: SqlDatabase) {}

  async createTopic(topic: NewTopic): Promise<TopicRecord> {
    checkPartitionCount(topic.partitions);
    const id = topic.id.toLowerCase();
    try {
      await this.db.transaction(async (tx) => {
        const existing = await tx.all('SELECT id FROM topics WHERE name = $1', [topic.name]);
        if (existing.length > 0) throw new TopicExistsError(topic.name);
        await tx.run('INSERT INTO topics (id, name, partitions, configs) VALUES ($1, $2, $3, $4)', [
          id,
          topic.name,
          topic.partitions,
          JSON.stringify(topic.configs),
        ]);
        await insertPartitions(tx, id, 0, topic.partitions);
      });
    } catch (err) {
      // Two agents creating the same name at once: the loser hits the unique index.
      if (this.db.isUniqueViolation(err)) throw new TopicExistsError(topic.name);
      throw err;
    }
    return { id, name: topic.name, partitions: topic.partitions, configs: { ...topic.configs } };
  }

  async getTopicByName(name: string): Promise<TopicRecord | null> {
    const rows = await this.db.all('SELECT id, name, partitions, configs FROM topics WHERE name = $1', [name]);
    return rows.length ? topicFromRow(rows[0]!) : null;
  }

  async getTopicById(id: string): Promise<TopicRecord | null> {
    const rows = await this.db.all('SELECT id, name, partitions, configs FROM topics WHERE id = $1', [id.toLowerCase()]);
    return rows.length ? topicFromRow(rows[0]!) : null;
  }

  async listTopics(): Promise<TopicRecord[]> {
    const rows = await this.db.all('SELECT id, name, partitions, configs FROM topics ORDER BY name');
    return rows.map(topicFromRow);
  }

  async deleteTopic(topicId: string): Promise<SegmentRecord[]> {
    const id = topicId.toLowerCase();
    return this.db.transaction(async (tx) => {
      const topic = await tx.all(`SELECT name FROM topics WHERE id = $1${tx.dialect.forUpdate}`, [id]);
      if (topic.length === 0) throw new UnknownTopicError(id);
      const segments = (
        await tx.all(
          `SELECT ${SEGMENT_COLUMNS} FROM segments WHERE topic_id = $1 ORDER BY partition_index, base_offset`,
          [id],
        )
      ).map(segmentFromRow);
      await tx.run('DELETE FROM segments WHERE topic_id = $1', [id]);
      await tx.run('DELETE FROM partitions WHERE topic_id = $1', [id]);
      // Kafka drops committed offsets of a deleted topic; a topic recreated under the name starts clean.
      await tx.run('DELETE FROM group_offsets WHERE topic = $1', [String(topic[0]!.name)]);
      await tx.run('DELETE FROM topics WHERE id = $1', [id]);
      return segments;
    });
  }

  async setTopicConfigs(topicId: string, configs: Record<string, string>): Promise<void> {
    const id = topicId.toLowerCase();
    const changed = await this.db.run('UPDATE topics SET configs = $1 WHERE id = $2', [JSON.stringify(configs), id]);
    if (changed === 0) throw new UnknownTopicError(id);
  }

  async addPartitions(topicId: string, newTotal: number): Promise<void> {
    checkPartitionCount(newTotal);
    const id = topicId.toLowerCase();
    await this.db.transaction(async (tx) => {
      const rows = await tx.all(`SELECT partitions FROM topics WHERE id = $1${tx.dialect.forUpdate}`, [id]);
      if (rows.length === 0) throw new UnknownTopicError(id);
      const current = toNumber(rows[0]!.partitions);
      if (newTotal <= current) {
        throw new InvalidPartitionsError(
          `topic ${id} has ${current} partitions; the new total must be larger (got ${newTotal})`,
        );
      }
      await tx.run('UPDATE topics SET partitions = $1 WHERE id = $2', [newTotal, id]);
      await insertPartitions(tx, id, current, newTotal);
    });
  }
}
