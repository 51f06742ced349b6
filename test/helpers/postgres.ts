// Starts a real PostgreSQL server for tests.
//
// With STREAMHOUSE_TEST_POSTGRES_URL set, that server is used and every call gets a fresh
// database. Otherwise initdb/pg_ctl are looked up (PATH, /usr/local/bin, /usr/lib/postgresql/*/bin)
// and a throwaway cluster is created in a temp directory, listening on 127.0.0.1 on a free port
// with its unix socket in the same directory. PostgreSQL refuses to run as root, so as root the
// server runs as the `postgres` user (or `nobody`) through runuser. Missing binaries are an error,
// never a skip: the tests that need PostgreSQL must fail where it is absent.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** URL of a fresh, empty database. */
  url: string;
  /** Creates another fresh, empty database on the same server and returns its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server (or drops the databases created on an external server) and removes temp files. */
  stop(): Promise<void>;
  /**
   * Restarts the server: a fast shutdown (every connection is ended), `downMs` with no server, then
   * a start on the same port with the same data. Only for the throwaway local server.
   */
  restart(downMs?: number): Promise<void>;
}

export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.STREAMHOUSE_TEST_POSTGRES_URL;
  return external ? useExternal(external) : startLocal();
}

function databaseUrl(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function freshDatabaseName(): string {
  return `streamhouse_test_${randomBytes(6).toString('hex')}`;
}

async function useExternal(serverUrl: string): Promise<TestPostgres> {
  const created: string[] = [];
  const createDatabase = async () => {
    const name = freshDatabaseName();
    await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
    created.push(name);
    return databaseUrl(serverUrl, name);
  };
  const url = await createDatabase();
  return {
    url,
    createDatabase,
    async stop() {
      for (const name of created.splice(0)) {
        await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    },
    async restart() {
      throw new Error('restart() needs the throwaway local PostgreSQL; unset STREAMHOUSE_TEST_POSTGRES_URL to run this test');
    },
  };
}

const INSTALL_HINT =
  'PostgreSQL server binaries (initdb, pg_ctl) were not found in PATH, /usr/local/bin or ' +
  '/usr/lib/postgresql/*/bin; install them (Debian/Ubuntu: apt-get install postgresql) or set ' +
  'STREAMHOUSE_TEST_POSTGRES_URL=postgres://user:pass@127.0.0.1:5432/postgres to use a running server';

/** The directory holding initdb, pg_ctl and postgres, symlinks resolved so pg_ctl finds postgres. */
export function findPostgresBinDir(): string {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/local/bin'];
  const versioned = '/usr/lib/postgresql';
  if (existsSync(versioned)) {
    const versions = readdirSync(versioned).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(versioned, v, 'bin')));
  }
  for (const dir of candidates) {
    const initdb = join(dir, 'initdb');
    if (!existsSync(initdb) || !existsSync(join(dir, 'pg_ctl'))) continue;
    const real = dirname(realpathSync(initdb));
    if (existsSync(join(real, 'postgres')) && existsSync(join(real, 'pg_ctl'))) return real;
  }
  throw new Error(INSTALL_HINT);
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

/** As root, the account the server runs as; otherwise null (run as ourselves). */
function serverAccount(): { name: string; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { name, uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('running as root and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as');
}

function runAs(account: { name: string } | null, cmd: string, args: string[], cwd: string) {
  const [file, argv] = account ? ['runuser', ['-u', account.name, '--', cmd, ...args]] : [cmd, args];
  return spawnSync(file, argv, { cwd, encoding: 'utf8', timeout: 60_000 });
}

const running = new Set<() => void>();
process.once('exit', () => {
  for (const stopNow of running) stopNow();
});

async function startLocal(): Promise<TestPostgres> {
  const bin = findPostgresBinDir();
  const account = serverAccount();
  const dir = mkdtempSync(join(tmpdir(), 'streamhouse-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  if (account) {
    chownSync(dir, account.uid, account.gid);
    chmodSync(dir, 0o700);
  }
  const fail = (what: string, r: { stdout?: string; stderr?: string; error?: Error }) => {
    const logText = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    rmSync(dir, { recursive: true, force: true });
    return new Error(`${what} failed: ${r.error?.message ?? ''}\n${r.stdout ?? ''}${r.stderr ?? ''}${logText}`);
  };
  const init = runAs(account, join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'], dir);
  if (init.status !== 0) throw fail('initdb', init);

  let port = 0;
  // fsync off: a test cluster is thrown away, durability would only cost time.
  const startServer = () =>
    runAs(account, join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-o', `-h 127.0.0.1 -p ${port} -k ${dir} -F -c max_connections=200`, '-w', '-t', '30', 'start'], dir);
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    const start = startServer();
    if (start.status === 0) break;
    if (attempt === 2) throw fail('pg_ctl start', start);
  }

  const stopNow = () => {
    runAs(account, join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], dir);
  };
  running.add(stopNow);
  const serverUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const createDatabase = async () => {
    const name = freshDatabaseName();
    await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
    return databaseUrl(serverUrl, name);
  };
  let stopped = false;
  return {
    url: await createDatabase(),
    createDatabase,
    async stop() {
      if (stopped) return;
      stopped = true;
      running.delete(stopNow);
      stopNow();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart(downMs = 0) {
      if (stopped) throw new Error('restart() after stop()');
      const down = runAs(account, join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'], dir);
      if (down.status !== 0) throw new Error(`pg_ctl stop failed: ${down.stdout}${down.stderr}`);
      await new Promise((r) => setTimeout(r, downMs));
      // The port may be taken meanwhile by another process; then the restart fails loudly.
      const up = startServer();
      if (up.status !== 0) throw new Error(`pg_ctl start after a stop failed: ${up.stdout}${up.stderr}${existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : ''}`);
    },
  };
}
