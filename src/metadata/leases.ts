// LeaseStore over SQL. Every change of holder bumps the epoch inside a transaction that locks the
// lease row, so two agents racing for a lease cannot both win, and anything written under the old
// epoch can be refused. Expiry is judged on the database's clock, the one clock all agents share.
//
// Partition leadership is the lease named partitionLeaseResource(topicId, partition). It is kept
// in the partition's own row (leader_agent, leader_epoch, lease_expires_at) rather than in the
// `leases` table, so the epoch commitSegment checks and the lease epoch are one value.

import { UnknownTopicOrPartitionError } from './errors.js';
import type { Row, SqlDatabase, SqlValue } from './sql.js';
import { toNumber, toNumberOrNull, toStringOrNull } from './sql.js';
import type { Lease, LeaseStore } from './types.js';

/** The lease resource that is the leadership of a partition. */
export function partitionLeaseResource(topicId: string, partition: number): string {
  return `partition/${topicId.toLowerCase()}/${partition}`;
}

const PARTITION_RESOURCE = /^partition\/([0-9a-f-]+)\/(\d+)$/;

/** Where a resource's lease lives: table, key and column names. */
interface Target {
  table: string;
  /** WHERE clause over $1..$n. */
  where: string;
  key: SqlValue[];
  holder: string;
  epoch: string;
  expires: string;
  partition?: { topicId: string; index: number };
}

function targetOf(resource: string): Target {
  const m = PARTITION_RESOURCE.exec(resource);
  if (m) {
    const topicId = m[1]!;
    const index = Number(m[2]);
    return {
      table: 'partitions',
      where: 'topic_id = $1 AND partition_index = $2',
      key: [topicId, index],
      holder: 'leader_agent',
      epoch: 'leader_epoch',
      expires: 'lease_expires_at',
      partition: { topicId, index },
    };
  }
  return { table: 'leases', where: 'resource = $1', key: [resource], holder: 'holder', epoch: 'epoch', expires: 'expires_at' };
}

/** `$k` for the i-th parameter after the key parameters. */
function param(t: Target, i: number): string {
  return `$${t.key.length + i}`;
}

function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`lease ttl must be a positive integer of ms, got ${ttlMs}`);
}

export class SqlLeaseStore implements LeaseStore {
  constructor(private readonly db: SqlDatabase) {}

  async acquire(resource: string, holder: string, ttlMs: number): Promise<Lease | null> {
    checkTtl(ttlMs);
    const t = targetOf(resource);
    return this.db.transaction(async (tx) => {
      if (!t.partition) {
        // Make sure there is a row to lock: FOR UPDATE on a missing row locks nothing.
        await tx.run('INSERT INTO leases (resource, holder, epoch, expires_at) VALUES ($1, NULL, 0, NULL) ON CONFLICT (resource) DO NOTHING', [
          resource,
        ]);
      }
      const rows = await tx.all(
        `SELECT ${t.holder} AS holder, ${t.epoch} AS epoch, ${t.expires} AS expires_at, ${tx.dialect.nowMs} AS now_ms
         FROM ${t.table} WHERE ${t.where}${tx.dialect.forUpdate}`,
        t.key,
      );
      if (rows.length === 0) throw new UnknownTopicOrPartitionError(t.partition!.topicId, t.partition!.index);
      const r = rows[0]!;
      const now = toNumber(r.now_ms);
      const current = leaseFromRow(resource, r);
      const live = current.holder !== null && current.expiresAt !== null && current.expiresAt > now;
      if (live && current.holder !== holder) return null;
      const epoch = live ? current.epoch : current.epoch + 1;
      const expiresAt = now + ttlMs;
      await tx.run(
        `UPDATE ${t.table} SET ${t.holder} = ${param(t, 1)}, ${t.epoch} = ${param(t, 2)}, ${t.expires} = ${param(t, 3)}
         WHERE ${t.where}`,
        [...t.key, holder, epoch, expiresAt],
      );
      return { resource, holder, epoch, expiresAt };
    });
  }

  async renew(resource: string, holder: string, epoch: number, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    const t = targetOf(resource);
    const changed = await this.db.run(
      `UPDATE ${t.table} SET ${t.expires} = ${this.db.dialect.nowMs} + ${param(t, 1)}
       WHERE ${t.where} AND ${t.holder} = ${param(t, 2)} AND ${t.epoch} = ${param(t, 3)}`,
      [...t.key, ttlMs, holder, epoch],
    );
    return changed === 1;
  }

  async release(resource: string, holder: string, epoch: number): Promise<boolean> {
    const t = targetOf(resource);
    const changed = await this.db.run(
      `UPDATE ${t.table} SET ${t.holder} = NULL, ${t.expires} = NULL
       WHERE ${t.where} AND ${t.holder} = ${param(t, 1)} AND ${t.epoch} = ${param(t, 2)}`,
      [...t.key, holder, epoch],
    );
    return changed === 1;
  }

  async get(resource: string): Promise<Lease | null> {
    const t = targetOf(resource);
    const rows = await this.db.all(
      `SELECT ${t.holder} AS holder, ${t.epoch} AS epoch, ${t.expires} AS expires_at FROM ${t.table} WHERE ${t.where}`,
      t.key,
    );
    return rows.length ? leaseFromRow(resource, rows[0]!) : null;
  }

  async renewAll(holder: string, ttlMs: number): Promise<Lease[]> {
    checkTtl(ttlMs);
    return this.db.transaction(async (tx) => {
      const now = tx.dialect.nowMs;
      await tx.run(`UPDATE partitions SET lease_expires_at = ${now} + $2 WHERE leader_agent = $1`, [holder, ttlMs]);
      await tx.run(`UPDATE leases SET expires_at = ${now} + $2 WHERE holder = $1`, [holder, ttlMs]);
      const parts = await tx.all(
        'SELECT topic_id, partition_index, leader_agent AS holder, leader_epoch AS epoch, lease_expires_at AS expires_at FROM partitions WHERE leader_agent = $1',
        [holder],
      );
      const others = await tx.all('SELECT resource, holder, epoch, expires_at FROM leases WHERE holder = $1 ORDER BY resource', [holder]);
      return [
        ...parts.map((r) => leaseFromRow(partitionLeaseResource(String(r.topic_id), toNumber(r.partition_index)), r)),
        ...others.map((r) => leaseFromRow(String(r.resource), r)),
      ];
    });
  }

  async list(prefix: string): Promise<Lease[]> {
    const rows = await this.db.all(
      'SELECT resource, holder, epoch, expires_at FROM leases WHERE substr(resource, 1, $2) = $1 ORDER BY resource',
      [prefix, prefix.length],
    );
    return rows.map((r) => leaseFromRow(String(r.resource), r));
  }
}

function leaseFromRow(resource: string, r: Row): Lease {
  return {
    resource,
    holder: toStringOrNull(r.holder),
    epoch: toNumber(r.epoch),
    expiresAt: toNumberOrNull(r.expires_at),
  };
}
