// The small SQL surface the stores are written against, so each store is written once for both
// dialects. Statements use PostgreSQL's `$n` placeholders; the SQLite driver rewrites them.

import { LeaseFencedError } from './errors.js';

export type SqlValue = string | number | bigint | Buffer | null;
export type Row = Record<string, unknown>;

export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Expression for the database clock in ms as an int64. One clock for every agent of a cluster. */
  readonly nowMs: string;
  /**
   * Suffix for a SELECT that must lock the rows it reads until commit. SQLite needs none: its
   * transactions are BEGIN IMMEDIATE, which holds the database's write lock from the start.
   */
  readonly forUpdate: string;
  /** Like forUpdate, but for a row only read: concurrent readers share it, a writer waits. */
  readonly forShare: string;
}

/**
 * Throws LeaseFencedError unless the lease is held as the fence says; inside a transaction, the
 * lease row stays locked until commit, so no takeover interleaves with the write.
 */
export async function checkLeaseFence(tx: SqlExecutor, fence: { resource: string; holder: string; epoch: number }): Promise<void> {
  const rows = await tx.all(`SELECT 1 AS held FROM leases WHERE resource = $1 AND holder = $2 AND epoch = $3${tx.dialect.forShare}`, [
    fence.resource,
    fence.holder,
    fence.epoch,
  ]);
  if (rows.length === 0) throw new LeaseFencedError(fence.resource, fence.epoch);
}

export interface SqlExecutor {
  readonly dialect: Dialect;
  all(sql: string, params?: SqlValue[]): Promise<Row[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: SqlValue[]): Promise<number>;
}

export interface SqlDatabase extends SqlExecutor {
  /** Runs fn in one transaction, committed if fn resolves and rolled back if it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Whether err is the driver's unique-constraint violation. */
  isUniqueViolation(err: unknown): boolean;
  close(): Promise<void>;
}

export function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' || typeof v === 'string') return BigInt(v);
  throw new TypeError(`expected an integer column, got ${typeof v}`);
}

export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  throw new TypeError(`expected an integer column, got ${typeof v}`);
}

export function toNumberOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : toNumber(v);
}

export function toStringOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}
