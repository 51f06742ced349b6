// Group commit, rolling, trimming and the size bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WriteAheadLog, WalFullError } from '../../src/wal/wal.js';
import type { WalPressure } from '../../src/wal/wal.js';
import { FILE_HEADER_BYTES, fileName, frameSize } from '../../src/wal/format.js';
import { FaultFs, TOPIC_A, TOPIC_B, collect, record, tempDir, walFiles } from './helpers.js';

test('group commit: 100 concurrent appends in always mode share a handful of fsyncs', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultFs();
  const fsyncSeconds: number[] = [];
  const wal = await WriteAheadLog.open({ dir, fs, syncMode: 'always', onSync: (s) => fsyncSeconds.push(s) });
  const syncsBefore = fs.syncs;
  const writesBefore = fs.writes;
  const positions = await Promise.all(Array.from({ length: 100 }, (_, i) => wal.append(record(i))));
  const syncs = fs.syncs - syncsBefore;
  assert.ok(syncs >= 1 && syncs <= 3, `expected 1-3 fsyncs for 100 appends, got ${syncs}`);
  assert.ok(fs.writes - writesBefore <= 3, `expected the appends batched into few writes, got ${fs.writes - writesBefore}`);
  assert.equal(fsyncSeconds.length, syncs, 'onSync reports every fsync');
  assert.ok(fsyncSeconds.every((s) => s >= 0 && s < 10));
  // Resolved means durable: the fs saw an fsync covering the last record.
  assert.ok(fs.synced.get(join(dir, fileName(1)))! >= positions[99].end);
  await wal.waitDurable(positions[99]);
  await wal.close();
});

test('interval mode acks after write() and fsyncs within the interval', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultFs();
  const wal = await WriteAheadLog.open({ dir, fs, syncMode: 'interval', syncIntervalMs: 20 });
  const before = fs.syncs;
  const pos = await wal.append(record(1));
  assert.equal(fs.syncs, before, 'the ack did not wait for an fsync');
  await wal.waitDurable(pos);
  assert.ok(fs.synced.get(join(dir, fileName(1)))! >= pos.end);
  await wal.close();
});

test('never mode fsyncs only when asked (sync, waitDurable, roll, close)', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultFs();
  const wal = await WriteAheadLog.open({ dir, fs, syncMode: 'never' });
  const before = fs.syncs;
  const pos = await wal.append(record(1));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(fs.syncs, before);
  await wal.sync();
  assert.equal(fs.syncs, before + 1);
  await wal.sync();
  assert.equal(fs.syncs, before + 1, 'nothing new written: no fsync');
  const pos2 = await wal.append(record(2));
  await wal.waitDurable(pos2);
  await wal.waitDurable(pos);
  assert.equal(fs.syncs, before + 2);
  await wal.close();
});

test('files roll at segmentBytes; trimming deletes only fully released files, never the active one', async (t) => {
  const dir = tempDir(t);
  const size = frameSize(40);
  const segmentBytes = FILE_HEADER_BYTES + 4 * size; // four records per file
  const wal = await WriteAheadLog.open({ dir, syncMode: 'never', segmentBytes });
  // Records alternate between two partitions: A/0 gets even i, B/1 odd i; offsets i*10 .. i*10+9.
  const rec = (i: number) => ({ ...record(i, 40, i % 2 ? TOPIC_B : TOPIC_A), partition: i % 2 });
  for (let i = 0; i < 10; i++) await wal.append(rec(i));
  // Files: 1 = i 0..3, 2 = i 4..7, 3 (active) = i 8..9.
  assert.deepEqual(walFiles(dir), [fileName(1), fileName(2), fileName(3)]);
  assert.equal(wal.usedBytes(), 3 * FILE_HEADER_BYTES + 10 * size);

  // A/0 committed through record 2 (end 30), B/1 through record 1 (end 20): file 1 still holds B/1's record 3.
  wal.releaseUpTo(TOPIC_A, 0, 30n);
  wal.releaseUpTo(TOPIC_B, 1, 20n);
  assert.equal(await wal.trim(), 0);
  assert.equal(walFiles(dir).length, 3);
  wal.releaseUpTo(TOPIC_B, 1, 40n);
  // releaseUpTo also schedules a trim of its own, so count files rather than trim()'s result.
  await wal.trim();
  assert.deepEqual(walFiles(dir), [fileName(2), fileName(3)]);
  assert.equal(wal.usedBytes(), 2 * FILE_HEADER_BYTES + 6 * size);

  // Everything released: file 2 goes, the active file 3 stays.
  wal.releaseUpTo(TOPIC_A, 0, 1000n);
  wal.releaseUpTo(TOPIC_B, 1, 1000n);
  await wal.trim();
  assert.deepEqual(walFiles(dir), [fileName(3)]);
  // A release never moves backwards.
  wal.releaseUpTo(TOPIC_A, 0, 0n);
  await wal.close();

  // The trimmed WAL recovers just the active file's records.
  const again = await WriteAheadLog.open({ dir, segmentBytes });
  const got = await collect(again.recover());
  assert.deepEqual(got.map((r) => r.baseOffset), [80n, 90n]);
  await again.close();
});

test('releases trim on their own, and recovered files are trimmed by releases after a restart', async (t) => {
  const dir = tempDir(t);
  const segmentBytes = FILE_HEADER_BYTES + 2 * frameSize(10);
  const wal = await WriteAheadLog.open({ dir, syncMode: 'never', segmentBytes });
  for (let i = 0; i < 6; i++) await wal.append({ ...record(i, 10), partition: 0 });
  await wal.close();
  assert.equal(walFiles(dir).length, 3);

  const again = await WriteAheadLog.open({ dir, syncMode: 'never', segmentBytes });
  assert.equal((await collect(again.recover())).length, 6);
  // File 3 was full, so appends continue in a new file 4.
  assert.deepEqual(walFiles(dir), [fileName(1), fileName(2), fileName(3), fileName(4)]);
  again.releaseUpTo(TOPIC_A, 0, 40n); // records 0..3 (offsets 0..39) committed
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(walFiles(dir), [fileName(3), fileName(4)]);
  await again.close();
});

test('forget releases what a partition wrote so far but not what it writes later', async (t) => {
  const dir = tempDir(t);
  const segmentBytes = FILE_HEADER_BYTES + frameSize(10);
  const wal = await WriteAheadLog.open({ dir, syncMode: 'never', segmentBytes });
  await wal.append({ ...record(0, 10), partition: 0 });
  await wal.append({ ...record(1, 10), partition: 0 });
  wal.forget(TOPIC_A, 0);
  await wal.append({ ...record(2, 10), partition: 0 });
  await wal.append({ ...record(3, 10), partition: 1 });
  await wal.trim();
  // Files 1 and 2 held the forgotten records; 3 holds a later record of the same partition.
  assert.deepEqual(walFiles(dir), [fileName(3), fileName(4)]);
  await wal.close();
});

test('pressure: above maxBytes appends wait, onPressure is called, and they fail with WalFullError after the timeout', async (t) => {
  const dir = tempDir(t);
  const size = frameSize(100);
  const segmentBytes = FILE_HEADER_BYTES + 2 * size;
  const maxBytes = 2 * segmentBytes;
  const pressure: WalPressure[] = [];
  const wal = await WriteAheadLog.open({ dir, syncMode: 'never', segmentBytes, maxBytes, pressureTimeoutMs: 150, onPressure: (p) => pressure.push(p) });
  for (let i = 0; i < 4; i++) await wal.append(record(i, 100));
  assert.equal(pressure.length, 0);
  assert.equal(wal.usedBytes(), maxBytes);

  const started = Date.now();
  const blocked = wal.append(record(4, 100));
  await assert.rejects(blocked, (err: unknown) => {
    assert.ok(err instanceof WalFullError);
    assert.equal(err.retriable, true);
    assert.match(err.message, /WAL full/);
    return true;
  });
  assert.ok(Date.now() - started >= 140, 'the append waited for the timeout');
  assert.equal(pressure.length, 1);
  assert.ok(pressure[0].usedBytes <= maxBytes + FILE_HEADER_BYTES && pressure[0].maxBytes === maxBytes && pressure[0].waiting === 1);
  assert.ok(wal.usedBytes() <= maxBytes + FILE_HEADER_BYTES, 'the bound held (plus the header of the file rolled under pressure)');
  await wal.close();
  // Nothing that failed is in the WAL.
  const again = await WriteAheadLog.open({ dir, segmentBytes, maxBytes });
  assert.deepEqual((await collect(again.recover())).map((r) => r.baseOffset), [0n, 10n, 20n, 30n]);
  await again.close();
});

test('pressure: releasing space lets waiting appends through, in order', async (t) => {
  const dir = tempDir(t);
  const size = frameSize(100);
  const segmentBytes = FILE_HEADER_BYTES + 2 * size;
  const maxBytes = 2 * segmentBytes;
  let wal: WriteAheadLog | undefined;
  let pressureCalls = 0;
  wal = await WriteAheadLog.open({
    dir,
    syncMode: 'never',
    segmentBytes,
    maxBytes,
    pressureTimeoutMs: 5000,
    onPressure: () => {
      pressureCalls++;
      // As a partition log would: upload early, then release what the upload committed.
      setTimeout(() => wal!.releaseUpTo(TOPIC_A, 0, 1000n), 30);
    },
  });
  for (let i = 0; i < 4; i++) await wal.append({ ...record(i, 100), partition: 0 });
  const waiting = [4, 5, 6].map((i) => wal!.append({ ...record(i, 100), partition: 0 }));
  const positions = await Promise.all(waiting);
  assert.equal(pressureCalls, 1);
  assert.ok(positions[0].end <= positions[1].offset || positions[0].file < positions[1].file);
  assert.ok(wal.usedBytes() <= maxBytes);
  await wal.close();
  const again = await WriteAheadLog.open({ dir, segmentBytes, maxBytes });
  const got = (await collect(again.recover())).map((r) => r.baseOffset);
  assert.deepEqual(got.slice(-3), [40n, 50n, 60n]);
  await again.close();
});

test('a WAL smaller than one file rolls under pressure so releases can free it', async (t) => {
  const dir = tempDir(t);
  const maxBytes = FILE_HEADER_BYTES * 2 + 3 * frameSize(100);
  let wal: WriteAheadLog | undefined;
  wal = await WriteAheadLog.open({
    dir,
    syncMode: 'never',
    segmentBytes: 1 << 20,
    maxBytes,
    onPressure: () => setTimeout(() => wal!.releaseUpTo(TOPIC_A, 0, 30n), 10),
  });
  for (let i = 0; i < 3; i++) await wal.append({ ...record(i, 100), partition: 0 });
  await wal.append({ ...record(3, 100), partition: 0 });
  assert.deepEqual(walFiles(dir), [fileName(2)]);
  assert.ok(!existsSync(join(dir, fileName(1))));
  await wal.close();
});

test('a record larger than segmentBytes gets a file of its own', async (t) => {
  const dir = tempDir(t);
  const wal = await WriteAheadLog.open({ dir, syncMode: 'never', segmentBytes: 200 });
  const a = await wal.append(record(0, 10));
  const big = await wal.append(record(1, 1000));
  const c = await wal.append(record(2, 10));
  assert.deepEqual([a.file, big.file, c.file], [1, 2, 3]);
  await wal.close();
  const again = await WriteAheadLog.open({ dir, segmentBytes: 200 });
  assert.deepEqual((await collect(again.recover())).map((r) => r.data.length), [10, 1000, 10]);
  await again.close();
});
