import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FileStore, S3Store, openObjectStore, parseObjectStoreUrl } from '../../src/s3/index.js';

describe('parseObjectStoreUrl', () => {
  it('file:///abs/path is an absolute directory', () => {
    assert.deepEqual(parseObjectStoreUrl('file:///var/lib/streamhouse/objects'), { kind: 'file', root: '/var/lib/streamhouse/objects' });
    assert.deepEqual(parseObjectStoreUrl('file://localhost/srv/o'), { kind: 'file', root: '/srv/o' });
    assert.deepEqual(parseObjectStoreUrl('file:///with%20space/x'), { kind: 'file', root: '/with space/x' });
  });

  it('file:relative resolves against the base directory', () => {
    assert.deepEqual(parseObjectStoreUrl('file:data/objects', '/base'), { kind: 'file', root: '/base/data/objects' });
    assert.deepEqual(parseObjectStoreUrl('file:./objects', '/base'), { kind: 'file', root: '/base/objects' });
    assert.deepEqual(parseObjectStoreUrl('file:objects'), { kind: 'file', root: resolve('objects') });
  });

  it('s3://bucket/prefix gives bucket and prefix without slashes', () => {
    assert.deepEqual(parseObjectStoreUrl('s3://my-bucket/cluster-a/data/'), { kind: 's3', bucket: 'my-bucket', prefix: 'cluster-a/data' });
    assert.deepEqual(parseObjectStoreUrl('s3://my-bucket'), { kind: 's3', bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseObjectStoreUrl('s3://my-bucket/'), { kind: 's3', bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseObjectStoreUrl('S3://b.example/p%C3%BC'), { kind: 's3', bucket: 'b.example', prefix: 'pü' });
  });

  it('rejects bad URLs with a message naming the accepted forms', () => {
    const bad = [
      '',
      '/plain/path',
      'objects',
      'http://example.com/x',
      'gs://bucket/x',
      'file:',
      'file://otherhost/x',
      's3://',
      's3:bucket',
      's3://Bad_Bucket!/x',
      's3://ab/x',
      's3://bucket:9000/x',
      's3://key:secret@bucket/x',
      's3://bucket/a/../b',
      's3://bucket/a//b',
      's3://bucket/x?endpoint=foo',
    ];
    for (const url of bad) {
      assert.throws(() => parseObjectStoreUrl(url), (err: Error) => {
        assert.match(err.message, /file:\/\/\/absolute\/path, file:relative\/path or s3:\/\/bucket\[\/prefix\]/, url);
        assert.ok(err.message.includes(`'${url}'`), `message names the URL: ${err.message}`);
        return true;
      }, url);
    }
  });
});

describe('openObjectStore', () => {
  it('opens a FileStore and creates its directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'streamhouse-open-'));
    try {
      const root = join(dir, 'nested', 'objects');
      const store = await openObjectStore(pathToFileURL(root).href);
      assert.ok(store instanceof FileStore);
      assert.equal(store.root, root);
      assert.ok((await stat(root)).isDirectory());
      await store.put('k', Buffer.from('v'));
      assert.equal((await store.get('k')).toString(), 'v');
      const rel = await openObjectStore('file:rel/objects', { baseDir: dir });
      assert.equal((rel as FileStore).root, join(dir, 'rel', 'objects'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens an S3Store with the endpoint from the options', async () => {
    const store = await openObjectStore('s3://bucket-x/pre', { s3Endpoint: 'http://127.0.0.1:1', s3Region: 'eu-west-1' });
    try {
      assert.ok(store instanceof S3Store);
      assert.equal(await store.client.config.region(), 'eu-west-1');
      assert.equal(store.client.config.forcePathStyle, true);
      const ep = await store.client.config.endpoint!();
      assert.equal(ep.hostname, '127.0.0.1');
      assert.equal(ep.port, 1);
    } finally {
      await store.close();
    }
  });

  it('rejects a bad URL', async () => {
    await assert.rejects(openObjectStore('ftp://x/y'), /unknown scheme 'ftp:'/);
  });
});
