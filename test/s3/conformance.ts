// The behaviour every ObjectStore backend must share, run against each one by its own test file
// (file-store.test.ts, s3-store.test.ts). `open` returns a fresh, empty store for each test.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { InvalidObjectKeyError, ObjectNotFoundError, type ObjectInfo, type ObjectStore } from '../../src/s3/object-store.js';

export interface ConformanceOptions {
  /** Size of the large-object test; the S3 store under test should use multipart below this. */
  largeObjectBytes: number;
  /**
   * Whether concurrent puts of one key leave exactly one whole version (S3 and the file store do).
   * s3rver writes objects in place, so racing puts of one key can interleave there; StreamHouse
   * never races on a key (segment keys are unique), so for s3rver only the last put is checked.
   */
  atomicConcurrentOverwrite?: boolean;
}

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of it) out.push(o);
  return out;
}

/** Sorts by the UTF-8 bytes of the key, S3's listing order. */
export function sorted(objects: ObjectInfo[]): ObjectInfo[] {
  return [...objects].sort((x, y) => Buffer.compare(Buffer.from(x.key), Buffer.from(y.key)));
}

export function objectStoreConformance(
  name: string,
  open: () => Promise<ObjectStore>,
  opts: ConformanceOptions,
): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    const withStore = (fn: (s: ObjectStore) => Promise<void>) => async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    };

    it('put then get returns the same bytes', withStore(async (s) => {
      const body = randomBytes(4096);
      await s.put('topics/t1/0/seg-a', body);
      assert.deepEqual(await s.get('topics/t1/0/seg-a'), body);
    }));

    it('stores an empty object', withStore(async (s) => {
      await s.put('empty', Buffer.alloc(0));
      assert.equal((await s.get('empty')).length, 0);
      assert.deepEqual(await s.head('empty'), { size: 0 });
    }));

    it('get of a missing key throws ObjectNotFoundError naming the key', withStore(async (s) => {
      await assert.rejects(s.get('nope/missing'), (err: unknown) => {
        assert.ok(err instanceof ObjectNotFoundError);
        assert.equal(err.key, 'nope/missing');
        return true;
      });
    }));

    it('head gives the size, or null for a missing key', withStore(async (s) => {
      await s.put('h/obj', Buffer.alloc(1234, 7));
      assert.deepEqual(await s.head('h/obj'), { size: 1234 });
      assert.equal(await s.head('h/absent'), null);
      // A "directory" that only exists as a key prefix is not an object.
      assert.equal(await s.head('h'), null);
    }));

    it('getRange reads [start, end) and clamps the end', withStore(async (s) => {
      const body = randomBytes(1000);
      await s.put('r/obj', body);
      assert.deepEqual(await s.getRange('r/obj', 0, 10), body.subarray(0, 10));
      assert.deepEqual(await s.getRange('r/obj', 500, 777), body.subarray(500, 777));
      assert.deepEqual(await s.getRange('r/obj', 990, 5000), body.subarray(990));
      assert.deepEqual(await s.getRange('r/obj', 999, 1000), body.subarray(999));
      assert.equal((await s.getRange('r/obj', 1000, 1010)).length, 0);
      assert.equal((await s.getRange('r/obj', 5000, 6000)).length, 0);
      assert.equal((await s.getRange('r/obj', 10, 10)).length, 0);
    }));

    it('getRange of a missing key throws ObjectNotFoundError; bad ranges throw RangeError', withStore(async (s) => {
      await assert.rejects(s.getRange('r/missing', 0, 10), ObjectNotFoundError);
      await assert.rejects(s.getRange('r/missing', 3, 3), ObjectNotFoundError);
      await s.put('r/x', Buffer.from('abc'));
      await assert.rejects(s.getRange('r/x', 5, 2), RangeError);
      await assert.rejects(s.getRange('r/x', -1, 2), RangeError);
    }));

    it('overwrite replaces content and size', withStore(async (s) => {
      await s.put('o/k', Buffer.from('first version, longer'));
      await s.put('o/k', Buffer.from('second'));
      assert.equal((await s.get('o/k')).toString(), 'second');
      assert.deepEqual(await s.head('o/k'), { size: 6 });
      const listed = await collect(s.list('o/'));
      assert.deepEqual(listed.map((o) => [o.key, o.size]), [['o/k', 6]]);
    }));

    it('delete removes the object and is idempotent', withStore(async (s) => {
      await s.put('d/k', Buffer.from('x'));
      await s.delete('d/k');
      assert.equal(await s.head('d/k'), null);
      await assert.rejects(s.get('d/k'), ObjectNotFoundError);
      await s.delete('d/k');
      await s.delete('d/never-existed');
    }));

    it('deleteMany removes every listed key and ignores missing ones', withStore(async (s) => {
      assert.ok(s.deleteMany, 'backend offers deleteMany');
      for (let i = 0; i < 5; i++) await s.put(`dm/${i}`, Buffer.from([i]));
      await s.deleteMany(['dm/0', 'dm/2', 'dm/4', 'dm/missing']);
      assert.deepEqual(sorted(await collect(s.list('dm/'))).map((o) => o.key), ['dm/1', 'dm/3']);
      await s.deleteMany([]);
    }));

    it('list is recursive and filtered by a plain string prefix', withStore(async (s) => {
      const keys = ['a/b', 'a-c', 'a/b/c/d', 'a/ba', 'ab', 'b/x/y/z', 'a/a'];
      // 'a/b' (object) and 'a/b/c/d' cannot both exist on a filesystem; the file store only needs
      // keys that do not use an object's name as a directory, so keep the set valid for both.
      const valid = keys.filter((k) => k !== 'a/b');
      for (const k of valid) await s.put(k, Buffer.from(k));
      // The order of list() is unspecified (s3rver does not sort like S3), so compare sorted.
      const all = sorted(await collect(s.list('')));
      const expected = [...valid].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      assert.deepEqual(all.map((o) => o.key), expected);
      for (const o of all) {
        assert.equal(o.size, Buffer.byteLength(o.key));
        assert.ok(o.lastModified instanceof Date && !Number.isNaN(o.lastModified.getTime()));
        assert.ok(Math.abs(o.lastModified.getTime() - Date.now()) < 10 * 60_000, 'lastModified is recent');
      }
      const keysOf = async (prefix: string) => sorted(await collect(s.list(prefix))).map((o) => o.key);
      assert.deepEqual(await keysOf('a/'), ['a/a', 'a/b/c/d', 'a/ba']);
      assert.deepEqual(await keysOf('a/b'), ['a/b/c/d', 'a/ba']);
      assert.deepEqual(await keysOf('a'), ['a-c', 'a/a', 'a/b/c/d', 'a/ba', 'ab']);
      assert.deepEqual(await keysOf('b/x/'), ['b/x/y/z']);
      assert.deepEqual(await collect(s.list('zzz/')), []);
    }));

    it('lists across pages', withStore(async (s) => {
      const n = 250; // the S3 store under test uses 100-key pages
      const keys = Array.from({ length: n }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      await runLimited(keys, 32, (k) => s.put(k, Buffer.from('v')));
      const listed = sorted(await collect(s.list('many/')));
      assert.equal(listed.length, n);
      assert.deepEqual(listed.map((o) => o.key), keys);
    }));

    it('unicode keys round-trip through put, get, head and list', withStore(async (s) => {
      const keys = ['ü/ñïçødé.seg', 'topics/日本語/0/ключ 1.seg', 'emoji/🚀 + spaces & ampersand=?.bin'];
      for (const k of keys) await s.put(k, Buffer.from(k, 'utf8'));
      for (const k of keys) {
        assert.equal((await s.get(k)).toString('utf8'), k);
        assert.deepEqual(await s.head(k), { size: Buffer.byteLength(k) });
      }
      const listed = (await collect(s.list(''))).map((o) => o.key);
      assert.deepEqual([...listed].sort(), [...keys].sort());
      assert.deepEqual((await collect(s.list('topics/日本語/'))).map((o) => o.key), ['topics/日本語/0/ключ 1.seg']);
    }));

    it('rejects keys that are not clean relative paths', withStore(async (s) => {
      for (const bad of ['', '../escape', 'a/../../b', '/abs', 'a//b', 'a/./b', 'trailing/', 'back\\slash', '.~tmp.x']) {
        await assert.rejects(s.put(bad, Buffer.from('x')), InvalidObjectKeyError, `put '${bad}'`);
        await assert.rejects(s.get(bad), InvalidObjectKeyError, `get '${bad}'`);
      }
      assert.throws(() => s.list('../'), InvalidObjectKeyError);
      assert.throws(() => s.list('/abs'), InvalidObjectKeyError);
    }));

    it('concurrent puts: distinct keys all land; one key ends with one whole version', withStore(async (s) => {
      const bodies = Array.from({ length: 40 }, (_, i) => randomBytes(2000 + i));
      await Promise.all(bodies.map((b, i) => s.put(`c/${i}`, b)));
      const got = await Promise.all(bodies.map((_, i) => s.get(`c/${i}`)));
      got.forEach((g, i) => assert.deepEqual(g, bodies[i]));

      const versions = Array.from({ length: 10 }, (_, i) => Buffer.alloc(50_000 + i, i));
      if (opts.atomicConcurrentOverwrite !== false) {
        await Promise.all(versions.map((v) => s.put('c/same', v)));
        const final = await s.get('c/same');
        assert.ok(versions.some((v) => v.equals(final)), 'final content is exactly one of the versions');
      } else {
        for (const v of versions) await s.put('c/same', v);
        assert.ok((await s.get('c/same')).equals(versions[9]), 'sequential overwrites leave the last version');
      }
    }));

    it(`large object (${opts.largeObjectBytes} bytes) round-trips, ranges included`, withStore(async (s) => {
      const body = randomBytes(opts.largeObjectBytes);
      await s.put('big/object', body);
      assert.deepEqual(await s.head('big/object'), { size: body.length });
      assert.ok((await s.get('big/object')).equals(body));
      const mid = 5 * 1024 * 1024; // crosses the first part boundary of a 5 MiB-part upload
      assert.ok((await s.getRange('big/object', mid - 100, mid + 100)).equals(body.subarray(mid - 100, mid + 100)));
      assert.ok((await s.getRange('big/object', body.length - 10, body.length + 10)).equals(body.subarray(-10)));
    }));
  });
}

async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
