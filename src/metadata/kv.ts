// KeyValueStore over SQL: small versioned blobs for coordinator and registry state.

import type { Row, SqlDatabase } from './sql.js';
import { toNumber } from './sql.js';
import type { KeyValueEntry, KeyValueStore } from './types.js';

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

  async put(namespace: string, key: string, value: Buffer, expectedVersion?: number): Promise<number | null> {
    if (expectedVersion === undefined) {
      const rows = await this.db.all(
        `INSERT INTO kv_entries (namespace, entry_key, entry_value, version) VALUES ($1, $2, $3, 1)
         ON CONFLICT (namespace, entry_key) DO UPDATE SET
           entry_value = excluded.entry_value, version = kv_entries.version + 1
         RETURNING version`,
        [namespace, key, value],
      );
      return toNumber(rows[0]!.version);
    }
    if (expectedVersion === 0) {
      const inserted = await this.db.run(
        `INSERT INTO kv_entries (namespace, entry_key, entry_value, version) VALUES ($1, $2, $3, 1)
         ON CONFLICT (namespace, entry_key) DO NOTHING`,
        [namespace, key, value],
      );
      return inserted === 1 ? 1 : null;
    }
    const updated = await this.db.run(
      `UPDATE kv_entries SET entry_value = $3, version = version + 1
       WHERE namespace = $1 AND entry_key = $2 AND version = $4`,
      [namespace, key, value, expectedVersion],
    );
    return updated === 1 ? expectedVersion + 1 : null;
  }

  async delete(namespace: string, key: string, expectedVersion?: number): Promise<boolean> {
    const removed =
      expectedVersion === undefined
        ? await this.db.run('DELETE FROM kv_entries WHERE namespace = $1 AND entry_key = $2', [namespace, key])
        : await this.db.run('DELETE FROM kv_entries WHERE namespace = $1 AND entry_key = $2 AND version = $3', [
            namespace,
            key,
            expectedVersion,
          ]);
    return removed === 1;
  }

  async list(namespace: string): Promise<KeyValueEntry[]> {
    const rows = await this.db.all(
      'SELECT entry_key, entry_value, version FROM kv_entries WHERE namespace = $1 ORDER BY entry_key',
      [namespace],
    );
    return rows.map(entryFromRow);
  }
}
