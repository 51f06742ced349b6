import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OnRequest } from '../../src/s3/object-store.js';
import { S3Store, type S3StoreOptions } from '../../src/s3/s3-store.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { objectStoreConformance } from './conformance.js';

const MiB = 1024 * 1024;
let s3: S3rverHandle;
let n = 0;

before(async () => {
  s3 = await startS3rver();
});
after(async () => {
  await s3.stop();
});

// Each store gets its own prefix in the shared bucket, so tests cannot see each other's keys.
function store(extra: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    prefix: `run-${process.pid}/t${n++}`,
    // Multipart from 8 MiB with 5 MiB parts, so the 20 MiB conformance object takes 4 parts.
    multipartThresholdBytes: 8 * MiB,
    partSizeBytes: 5 * MiB,
    // Small pages and batches exercise pagination without thousands of objects.
    listPageSize: 100,
    deleteBatchSize: 10,
    ...extra,
  });
}

objectStoreConformance('s3 (s3rver)', async () => store(), { largeObjectBytes: 20 * MiB, atomicConcurrentOverwrite: false });

describe('S3Store on s3rver', () => {
  it('uploads a body above the threshold in parts and reports each request', async () => {
    const ops: string[] = [];
    const onRequest: OnRequest = (op, outcome) => ops.push(`${op}:${outcome}`);
    const s = store({ onRequest });
    try {
      const body = Buffer.alloc(12 * MiB, 0xab);
      await s.put('mp/obj', body);
      assert.deepEqual(ops, ['put.createMultipart:ok', 'put.part:ok', 'put.part:ok', 'put.part:ok', 'put.complete:ok']);
      assert.ok((await s.get('mp/obj')).equals(body));
    } finally {
      await s.close();
    }
  });

  it('keeps keys under the prefix and lists them relative to it', async () => {
    const a = store();
    const b = store();
    try {
      await a.put('k', Buffer.from('a'));
      await b.put('k', Buffer.from('b'));
      assert.equal((await a.get('k')).toString(), 'a');
      const listed: string[] = [];
      for await (const o of b.list('')) listed.push(o.key);
      assert.deepEqual(listed, ['k']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('deleteMany splits the keys into DeleteObjects batches', async () => {
    const ops: string[] = [];
    const s = store({ onRequest: (op, outcome) => op === 'deleteMany' && ops.push(outcome) });
    try {
      const keys = Array.from({ length: 25 }, (_, i) => `del/${i}`); // batches of 10: 10 + 10 + 5
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => s.put(k, Buffer.from('x'))));
      }
      await s.deleteMany(keys);
      // s3rver may answer a batch with a spurious 500 (see test/helpers/s3rver.ts); retries absorb it.
      assert.equal(ops.filter((o) => o === 'ok').length, 3);
      const left: string[] = [];
      for await (const o of s.list('del/')) left.push(o.key);
      assert.deepEqual(left, []);
    } finally {
      await s.close();
    }
  });

  it('a missing bucket is an error, not "object not found"', async () => {
    const s = new S3Store({ bucket: 'no-such-bucket', endpoint: s3.endpoint, maxAttempts: 1 });
    try {
      await assert.rejects(s.get('k'), (err: Error) => err.name === 'NoSuchBucket');
    } finally {
      await s.close();
    }
  });

  it('rejects a part size below S3 minimum with a message naming the fix', () => {
    assert.throws(() => new S3Store({ bucket: 'b', partSizeBytes: MiB }), /minimum.*partSizeBytes/);
  });
});
