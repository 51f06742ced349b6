// The conformance suite and PostgreSQL specifics against a real PostgreSQL server
// (test/helpers/postgres.ts starts one, or uses STREAMHOUSE_TEST_POSTGRES_URL).

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  MetadataUnavailableError,
  openMetadataStore,
  openPostgresMetadataStore,
  PostgresDatabase,
} from '../../src/metadata/index.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { metadataConformance } from './conformance.js';

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

metadataConformance('postgres', {
  async createDatabase() {
    const url = await server.createDatabase();
    return {
      open: () => openMetadataStore(url, { poolSize: 4 }),
      openRaw: async () => new PostgresDatabase(url, { poolSize: 1 }),
      drop: async () => undefined, // the whole server (or every created database) goes in after()
    };
  },
});

async function closedPort(): Promise<number> {
  return new Promise((resolvePort) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

describe('PostgreSQL metadata store', () => {
  it('exposes pool statistics', async () => {
    const store = await openPostgresMetadataStore(await server.createDatabase(), { poolSize: 3 });
    try {
      await Promise.all([store.ping(), store.ping(), store.ping(), store.ping()]);
      const stats = store.poolStats();
      assert.ok(stats.total >= 1 && stats.total <= 3, `total ${stats.total}`);
      assert.equal(stats.idle, stats.total);
      assert.equal(stats.waiting, 0);
    } finally {
      await store.close();
    }
  });

  it('parses int8 as bigint only on its own pool, not in pg globally', async () => {
    const url = await server.createDatabase();
    const store = await openPostgresMetadataStore(url);
    const plain = new pg.Client({ connectionString: url });
    await plain.connect();
    try {
      assert.equal(await store.producerIds.allocateProducerIds(1), 0n);
      const r = await plain.query('SELECT next_id FROM producer_ids');
      assert.equal(r.rows[0].next_id, '1', 'a plain pg client still sees int8 as a string');
    } finally {
      await plain.end();
      await store.close();
    }
  });

  it('fails to open against an unreachable server with MetadataUnavailableError', async () => {
    const port = await closedPort();
    await assert.rejects(
      openMetadataStore(`postgres://postgres@127.0.0.1:${port}/postgres`, { connectTimeoutMs: 2000 }),
      (e) => e instanceof MetadataUnavailableError && /unavailable.*server is running/.test(e.message),
    );
  });

  it('reports a lost connection as MetadataUnavailableError and recovers on the next call', async () => {
    const url = await server.createDatabase();
    const store = await openPostgresMetadataStore(url, { poolSize: 1 });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await store.ping();
      const terminated = await admin.query(
        'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [new URL(url).pathname.slice(1)],
      );
      assert.equal(terminated.rowCount, 1);
      // The pooled connection is dead: a call either fails as unavailable or, once the pool has
      // noticed, runs on a new connection. It must never fail any other way, and must recover.
      let failures = 0;
      for (let attempt = 0; ; attempt++) {
        try {
          await store.kv.put('ns', 'k', Buffer.from('v'));
          break;
        } catch (err) {
          assert.ok(err instanceof MetadataUnavailableError, String(err));
          assert.ok(++failures <= 2, 'the store did not recover');
        }
      }
      assert.deepEqual(await store.kv.get('ns', 'k'), Buffer.from('v'));
    } finally {
      await admin.end();
      await store.close();
    }
  });

  it('surfaces a dead connection in the middle of a transaction as MetadataUnavailableError', async () => {
    const url = await server.createDatabase();
    const db = new PostgresDatabase(url, { poolSize: 2 });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await assert.rejects(
        db.transaction(async (tx) => {
          const pid = (await tx.all('SELECT pg_backend_pid() AS pid'))[0]!.pid;
          await admin.query('SELECT pg_terminate_backend($1)', [pid]);
          await tx.all('SELECT 1');
        }),
        MetadataUnavailableError,
      );
      assert.deepEqual(await db.all('SELECT 1 AS ok'), [{ ok: 1 }]);
    } finally {
      await admin.end();
      await db.close();
    }
  });
});
