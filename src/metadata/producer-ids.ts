// ProducerIdStore over SQL: a single counter row advanced by one atomic UPDATE ... RETURNING.
// PostgreSQL's row lock and SQLite's write lock make concurrent allocations queue, never overlap.

import type { SqlDatabase } from './sql.js';
import { toBigInt } from './sql.js';
import type { ProducerIdStore } from './types.js';

export class SqlProducerIdStore implements ProducerIdStore {
  constructor(private readonly db: SqlDatabase) {}

  async allocateProducerIds(count: number): Promise<bigint> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`producer id block size must be >= 1, got ${count}`);
    const rows = await this.db.all('UPDATE producer_ids SET next_id = next_id + $1 WHERE id = 1 RETURNING next_id', [
      BigInt(count),
    ]);
    return toBigInt(rows[0]!.next_id) - BigInt(count);
  }
}
