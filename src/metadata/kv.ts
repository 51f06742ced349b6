// KeyValueStore over SQL: small versioned blobs for coordinator and registry state.

import type { Row, SqlDatabase, SqlExecutor } from './sql.js';
import { checkLeaseFence, toNumber } from './sql.js';
import type { KeyValueEntry, KeyValueStore, LeaseFence } from './types.js';

function entryFromRow(r: Row): KeyValueEntry {
  return { key: String(r.entry_key), value: r.entry_value as Buffer, version: toNumber(r.version) };
}

export class SqlKeyValueStore implements KeyValueStore {
  constructor(private readonly db: SqlDatabase) {}

  async get(namespace: string, key: string): Promise<Buffer | null> {
    return (await this.getEntry(namespace, key))?.value ?? null;
  }

  async getEntry(namespace: string, key: string): Promise<KeyValueEntry | null> {
    const rows = await this.db.all(
      'SELECT entry_key, entry_value, version FROM kv_entries WHERE namespace = $1 AND entry_key = $2',
      [namespace, key],
    );
    return rows.length ? entryFromRow(rows[0]!) : null;
  }

  async put(namespace: string, key: string, value: Buffer, expectedVersion?: number, fence?: LeaseFence): Promise<number | null> {
    if (!fence) return putOn(this.db, namespace, key, value, expectedVersion);
    return this.db.transaction(async (tx) => {
      await checkLeaseFence(tx, fence);
      return putOn(tx, namespace, key, value, expectedVersion);
    });
  }

  async delete(namespace: string, key: string, expectedVersion?: number, fence?: LeaseFence): Promise<boolean> {
    if (!fence) return deleteOn(this.db, namespace, key, expectedVersion);
    return this.db.transaction(async (tx) => {
      await checkLeaseFence(tx, fence);
      return deleteOn(tx, namespace, key, expectedVersion);
    });
  }

  async list(namespace: string): Promise<KeyValueEntry[]> {
    const rows = await this.db.all(
      'SELECT entry_key, entry_value, version FROM kv_entries WHERE namespace = $1 ORDER BY entry_key',
      [namespace],
    );
    return rows.map(entryFromRow);
  }
}

async function putOn(db: SqlExecutor, namespace: string, key: string, value: Buffer, expectedVersion?: number): Promise<number | null> {
  if (expectedVersion === undefined) {
    const rows = await db.all(
      `INSERT INTO kv_entries (namespace, entry_key, entry_value, version) VALUES ($1, $2, $3, 1)
       ON CONFLICT (namespace, entry_key) DO UPDATE SET
         entry_value = excluded.entry_value, version = kv_entries.version + 1
       RETURNING version`,
      [namespace, key, value],
    );
    return toNumber(rows[0]!.version);
  }
  if (expectedVersion === 0) {
    const inserted = await db.run(
      `INSERT INTO kv_entries (namespace, entry_key, entry_value, version) VALUES ($1, $2, $3, 1)
       ON CONFLICT (namespace, entry_key) DO NOTHING`,
      [namespace, key, value],
    );
    return inserted === 1 ? 1 : null;
  }
  const updated = await db.run(
    `UPDATE kv_entries SET entry_value = $3, version = version + 1
     WHERE namespace = $1 AND entry_key = $2 AND version = $4`,
    [namespace, key, value, expectedVersion],
  );
  return updated === 1 ? expectedVersion + 1 : null;
}

async function deleteOn(db: SqlExecutor, namespace: string, key: string, expectedVersion?: number): Promise<boolean> {
  const removed =
    expectedVersion === undefined
      ? await db.run('DELETE FROM kv_entries WHERE namespace = $1 AND entry_key = $2', [namespace, key])
      : await db.run('DELETE FROM kv_entries WHERE namespace = $1 AND entry_key = $2 AND version = $3', [namespace, key, expectedVersion]);
  return removed === 1;
}
