// SQLite driver (better-sqlite3 12) and the embedded MetadataStore built on it.
//
// better-sqlite3 is synchronous; the driver wraps it in the async SqlDatabase contract. Because a
// transaction's callback is async, other work on the same database must wait for it: every call
// goes through a mutex shared by all connections of this process to the same file (two store
// instances on one file in one process would otherwise block the event loop on each other's
// write lock). Other processes are handled by SQLite's own locking and busy_timeout.

import Database from 'better-sqlite3';
import { mkdirSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MetadataUnavailableError } from './errors.js';
import type { Dialect, Row, SqlDatabase, SqlExecutor, SqlValue } from './sql.js';
import { initializeSchema, SqlMetadataStore } from './sql-store.js';

const DIALECT: Dialect = {
  name: 'sqlite',
  nowMs: `CAST(unixepoch('subsec') * 1000 AS INTEGER)`,
  forUpdate: '',
  forShare: '',
};

export interface SqliteOptions {
  /** How long a write waits for another process's lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
}

class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  refs = 0;

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const mutexes = new Map<string, Mutex>();

function acquireMutex(key: string): Mutex {
  let m = mutexes.get(key);
  if (!m) mutexes.set(key, (m = new Mutex()));
  m.refs++;
  return m;
}

function releaseMutex(key: string): void {
  const m = mutexes.get(key);
  if (m && --m.refs === 0) mutexes.delete(key);
}

interface Compiled {
  stmt: Database.Statement;
  /** For each `?` in order, the index of the `$n` parameter it stands for. */
  order: number[];
}

const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|PROTOCOL)/;

function mapError(err: unknown): unknown {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) {
    return new MetadataUnavailableError(`SQLite metadata store unavailable (${code}): ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (err instanceof TypeError && /database connection is not open/.test(err.message)) {
    return new MetadataUnavailableError('SQLite metadata store is closed', { cause: err });
  }
  return err;
}

let memoryCounter = 0;

export class SqliteDatabase implements SqlDatabase {
  readonly dialect = DIALECT;
  private readonly db: Database.Database;
  private readonly cache = new Map<string, Compiled>();
  private readonly mutexKey: string;
  private readonly mutex: Mutex;
  private readonly direct: SqlExecutor;
  private closed = false;

  /** `path` is a file path or ':memory:'. */
  constructor(path: string, options: SqliteOptions = {}) {
    const memory = path === ':memory:';
    if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
    const busyTimeout = options.busyTimeoutMs ?? 5000;
    try {
      this.db = new Database(path, { timeout: busyTimeout });
    } catch (err) {
      throw new MetadataUnavailableError(
        `cannot open SQLite metadata store at ${path}: ${(err as Error).message}; check the path and its permissions`,
        { cause: err },
      );
    }
    // WAL lets readers run beside the writer; NORMAL is durable across process crashes in WAL mode,
    // and the store is not on the per-record path, so a power cut costs at most the last commit.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`busy_timeout = ${busyTimeout}`);
    // Every integer reads back as bigint so offsets near 2^63 keep their precision.
    this.db.defaultSafeIntegers(true);
    this.mutexKey = memory ? `:memory:${memoryCounter++}` : realpathSync(path);
    this.mutex = acquireMutex(this.mutexKey);
    this.direct = { dialect: DIALECT, all: async (s, p) => this.allNow(s, p), run: async (s, p) => this.runNow(s, p) };
  }

  all(sql: string, params: SqlValue[] = []): Promise<Row[]> {
    return this.mutex.run(async () => this.allNow(sql, params));
  }

  run(sql: string, params: SqlValue[] = []): Promise<number> {
    return this.mutex.run(async () => this.runNow(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      this.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        this.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.open && this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  isUniqueViolation(err: unknown): boolean {
    const code = (err as { code?: unknown })?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }

  close(): Promise<void> {
    return this.mutex.run(async () => {
      if (this.closed) return;
      this.closed = true;
      this.cache.clear();
      this.db.close();
      releaseMutex(this.mutexKey);
    });
  }

  private exec(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (err) {
      throw mapError(err);
    }
  }

  private allNow(sql: string, params: SqlValue[] = []): Row[] {
    const c = this.compile(sql);
    try {
      return c.stmt.all(...this.bind(c, params)) as Row[];
    } catch (err) {
      throw mapError(err);
    }
  }

  private runNow(sql: string, params: SqlValue[] = []): number {
    const c = this.compile(sql);
    try {
      if (c.stmt.reader) return c.stmt.all(...this.bind(c, params)).length;
      return c.stmt.run(...this.bind(c, params)).changes;
    } catch (err) {
      throw mapError(err);
    }
  }

  private bind(c: Compiled, params: SqlValue[]): SqlValue[] {
    return c.order.map((i) => {
      const v = params[i];
      if (v === undefined) throw new RangeError(`missing SQL parameter $${i + 1}`);
      return v;
    });
  }

  /** Prepares once per SQL text, rewriting `$n` placeholders to positional `?`. */
  private compile(sql: string): Compiled {
    let c = this.cache.get(sql);
    if (c) return c;
    const order: number[] = [];
    const text = sql.replace(/\$(\d+)/g, (_m, n: string) => {
      order.push(Number(n) - 1);
      return '?';
    });
    try {
      c = { stmt: this.db.prepare(text), order };
    } catch (err) {
      throw mapError(err);
    }
    this.cache.set(sql, c);
    return c;
  }
}

export async function openSqliteMetadataStore(path: string, options: SqliteOptions = {}): Promise<SqlMetadataStore> {
  const db = new SqliteDatabase(path, options);
  try {
    return new SqlMetadataStore(db, await initializeSchema(db));
  } catch (err) {
    await db.close();
    throw err;
  }
}
