// PostgreSQL driver (pg Pool) and the cluster MetadataStore built on it.
//
// int8 columns are parsed as bigint through a per-pool type table, never pg's global one, so other
// users of pg in the process are unaffected. Connection-level failures become
// MetadataUnavailableError so callers can tell "retry later" from a logic error.

import pg from 'pg';
import { MetadataUnavailableError } from './errors.js';
import type { Dialect, Row, SqlDatabase, SqlExecutor, SqlValue } from './sql.js';
import { initializeSchema, SqlMetadataStore } from './sql-store.js';

const DIALECT: Dialect = {
  name: 'postgres',
  nowMs: `(extract(epoch from clock_timestamp()) * 1000)::bigint`,
  forUpdate: ' FOR UPDATE',
  forShare: ' FOR SHARE',
};

const INT8_OID = 20;

const TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => BigInt(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;

export interface PostgresOptions {
  /** Maximum connections in the pool. Default 10. */
  poolSize?: number;
  /** How long to wait for a connection before failing with MetadataUnavailableError. Default 10000 ms. */
  connectTimeoutMs?: number;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** SQLSTATE classes and socket errors that mean the server is unreachable, not that the query is wrong. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53400']);
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|Client was closed|Cannot use a pool after calling end/i;

export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code)) return true;
  }
  if (err instanceof AggregateError) return err.errors.some(isConnectionError);
  return err instanceof Error && UNAVAILABLE_MESSAGES.test(err.message);
}

function mapError(err: unknown): unknown {
  if (err instanceof MetadataUnavailableError || !isConnectionError(err)) return err;
  const detail = err instanceof Error && err.message ? err.message : String((err as { code?: unknown }).code);
  return new MetadataUnavailableError(
    `PostgreSQL metadata store unavailable: ${detail}; check that the server is running and reachable`,
    { cause: err },
  );
}

class ClientExecutor implements SqlExecutor {
  readonly dialect = DIALECT;
  constructor(private readonly client: pg.PoolClient) {}

  async all(sql: string, params: SqlValue[] = []): Promise<Row[]> {
    try {
      return (await this.client.query(sql, params)).rows as Row[];
    } catch (err) {
      throw mapError(err);
    }
  }

  async run(sql: string, params: SqlValue[] = []): Promise<number> {
    try {
      return (await this.client.query(sql, params)).rowCount ?? 0;
    } catch (err) {
      throw mapError(err);
    }
  }
}

export class PostgresDatabase implements SqlDatabase {
  readonly dialect = DIALECT;
  private readonly pool: pg.Pool;

  constructor(url: string, options: PostgresOptions = {}) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'streamhouse',
      types: TYPES,
    });
    // An idle client losing its connection must not crash the process; the next query that needs
    // a connection reports the outage as MetadataUnavailableError.
    this.pool.on('error', () => undefined);
  }

  async all(sql: string, params: SqlValue[] = []): Promise<Row[]> {
    try {
      return (await this.pool.query(sql, params)).rows as Row[];
    } catch (err) {
      throw mapError(err);
    }
  }

  async run(sql: string, params: SqlValue[] = []): Promise<number> {
    try {
      return (await this.pool.query(sql, params)).rowCount ?? 0;
    } catch (err) {
      throw mapError(err);
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw mapError(err);
    }
    let broken: Error | undefined;
    // A checked-out client whose server goes away emits 'error' between queries; without a
    // listener that would crash the process. The next query on it then fails as unavailable.
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    const tx = new ClientExecutor(client);
    try {
      await tx.run('BEGIN');
      const result = await fn(tx);
      await tx.run('COMMIT');
      return result;
    } catch (err) {
      if (err instanceof MetadataUnavailableError) broken ??= err;
      else if (!broken) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr as Error;
        }
      }
      throw err;
    } finally {
      client.off('error', onError);
      // Passing an error destroys the connection instead of returning a dead one to the pool.
      client.release(broken);
    }
  }

  isUniqueViolation(err: unknown): boolean {
    return (err as { code?: unknown })?.code === '23505';
  }

  poolStats(): PoolStats {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

export class PostgresMetadataStore extends SqlMetadataStore {
  constructor(private readonly pg: PostgresDatabase, clusterId: string) {
    super(pg, clusterId);
  }

  /** Connection pool gauges for metrics. */
  poolStats(): PoolStats {
    return this.pg.poolStats();
  }
}

export async function openPostgresMetadataStore(
  url: string,
  options: PostgresOptions = {},
): Promise<PostgresMetadataStore> {
  const db = new PostgresDatabase(url, options);
  try {
    return new PostgresMetadataStore(db, await initializeSchema(db));
  } catch (err) {
    await db.close();
    throw err;
  }
}
