import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileStore } from '../../src/s3/file-store.js';
import type { OnRequest } from '../../src/s3/object-store.js';
import { objectStoreConformance } from './conformance.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'streamhouse-filestore-'));
  dirs.push(d);
  return d;
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

objectStoreConformance('file', async () => FileStore.open(join(await freshDir(), 'objects')), {
  largeObjectBytes: 20 * 1024 * 1024,
});

describe('FileStore specifics', () => {
  it('leaves no temp files behind and stores the object at its key path', async () => {
    const root = await freshDir();
    const s = await FileStore.open(root);
    await s.put('topics/t/0/seg', Buffer.from('hello'));
    assert.deepEqual(await readdir(join(root, 'topics/t/0')), ['seg']);
  });

  it('list ignores temp files of an interrupted put', async () => {
    const root = await freshDir();
    const s = await FileStore.open(root);
    await s.put('p/a', Buffer.from('a'));
    await writeFile(join(root, 'p', '.~tmp.deadbeef'), 'half');
    const keys: string[] = [];
    for await (const o of s.list('')) keys.push(o.key);
    assert.deepEqual(keys, ['p/a']);
  });

  it('a key under an existing object name fails instead of corrupting it', async () => {
    const s = await FileStore.open(await freshDir());
    await s.put('x', Buffer.from('object'));
    await assert.rejects(s.put('x/y', Buffer.from('child')));
    assert.equal((await s.get('x')).toString(), 'object');
  });

  it('lists in UTF-8 byte order of the whole key, like S3', async () => {
    const s = await FileStore.open(await freshDir());
    const keys = ['a/b/c', 'a-c', 'a/a', 'ab', 'a.b/x', 'é', 'z'];
    for (const k of keys) await s.put(k, Buffer.from(k));
    const listed: string[] = [];
    for await (const o of s.list('')) listed.push(o.key);
    assert.deepEqual(listed, ['a-c', 'a.b/x', 'a/a', 'a/b/c', 'ab', 'z', 'é']);
  });

  it('reports each operation to onRequest', async () => {
    const seen: [string, string][] = [];
    const onRequest: OnRequest = (op, outcome, seconds) => {
      assert.ok(seconds >= 0);
      seen.push([op, outcome]);
    };
    const s = await FileStore.open(await freshDir(), { onRequest });
    await s.put('k', Buffer.from('v'));
    await s.get('k');
    await s.get('missing').catch(() => {});
    await s.head('k');
    assert.deepEqual(seen, [['put', 'ok'], ['get', 'ok'], ['get', 'ok'], ['head', 'ok']]);
  });
});
