import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { openMetadataStore, parseMetadataUrl, SqliteDatabase } from '../../src/metadata/index.js';
import { metadataConformance } from './conformance.js';

const root = mkdtempSync(join(tmpdir(), 'streamhouse-meta-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

metadataConformance('sqlite', {
  async createDatabase() {
    const path = join(root, `db-${n++}`, 'meta.sqlite');
    return {
      open: () => openMetadataStore(`sqlite:${path}`),
      openRaw: async () => new SqliteDatabase(path),
      drop: async () => rmSync(join(path, '..'), { recursive: true, force: true }),
    };
  },
});

describe('SQLite metadata store', () => {
  it('uses WAL journaling and NORMAL synchronous mode on a file', async () => {
    const path = join(root, 'wal', 'meta.sqlite');
    const store = await openMetadataStore(`sqlite:${path}`);
    try {
      const raw = new SqliteDatabase(path);
      try {
        assert.equal((await raw.all('PRAGMA journal_mode'))[0]!.journal_mode, 'wal');
        assert.equal(Number((await raw.all('PRAGMA synchronous'))[0]!.synchronous), 1);
        assert.equal(Number((await raw.all('PRAGMA busy_timeout'))[0]!.timeout), 5000);
      } finally {
        await raw.close();
      }
      assert.ok(existsSync(`${path}-wal`));
    } finally {
      await store.close();
    }
  });

  it('opens an in-memory store per call', async () => {
    const a = await openMetadataStore('sqlite::memory:');
    const b = await openMetadataStore('sqlite::memory:');
    try {
      await a.topics.createTopic({ name: 'x', id: '00000000-0000-4000-8000-000000000001', partitions: 1, configs: {} });
      assert.equal((await a.topics.listTopics()).length, 1);
      assert.equal((await b.topics.listTopics()).length, 0);
      assert.notEqual(a.getClusterId(), b.getClusterId());
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('parses the accepted URL forms', () => {
    assert.deepEqual(parseMetadataUrl('sqlite:/abs/meta.sqlite'), { kind: 'sqlite', path: '/abs/meta.sqlite' });
    assert.deepEqual(parseMetadataUrl('sqlite:data/meta.sqlite'), { kind: 'sqlite', path: resolve('data/meta.sqlite') });
    assert.deepEqual(parseMetadataUrl('sqlite:///abs/meta.sqlite'), { kind: 'sqlite', path: '/abs/meta.sqlite' });
    assert.deepEqual(parseMetadataUrl('sqlite::memory:'), { kind: 'sqlite', path: ':memory:' });
    assert.deepEqual(parseMetadataUrl('postgres://u@h/db'), { kind: 'postgres', url: 'postgres://u@h/db' });
    assert.deepEqual(parseMetadataUrl('postgresql://u@h/db'), { kind: 'postgres', url: 'postgresql://u@h/db' });
  });

  it('rejects other URLs with an error naming the accepted forms', async () => {
    for (const url of ['mysql://h/db', 'sqlite:', '/tmp/meta.sqlite', 'sqlite://host/x']) {
      await assert.rejects(openMetadataStore(url), /unsupported metadata store URL.*sqlite:\/absolute.*sqlite::memory:.*postgres:\/\//);
    }
  });

  it('creates the parent directory of a relative path', async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const store = await openMetadataStore('sqlite:nested/dir/meta.sqlite');
      await store.close();
      assert.ok(existsSync(join(root, 'nested/dir/meta.sqlite')));
    } finally {
      process.chdir(cwd);
    }
  });

  it('reports a closed store as unavailable', async () => {
    const store = await openMetadataStore('sqlite::memory:');
    await store.close();
    await assert.rejects(store.ping(), { name: 'MetadataUnavailableError' });
  });
});
