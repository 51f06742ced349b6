import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WriteAheadLog, WalRecordTooLargeError, WalClosedError } from '../../src/wal/wal.js';
import type { WalAppend, WalPosition, WalRecord } from '../../src/wal/wal.js';
import { FILE_HEADER_BYTES } from '../../src/wal/format.js';
import { TOPIC_A, TOPIC_B, collect, memoryLogger, record, tempDir, walFiles } from './helpers.js';

function same(got: WalRecord, want: WalAppend): void {
  assert.equal(got.topicId, want.topicId);
  assert.equal(got.partition, want.partition);
  assert.equal(got.baseOffset, want.baseOffset);
  assert.equal(got.lastOffset, want.lastOffset);
  assert.equal(got.leaderEpoch, want.leaderEpoch);
  assert.deepEqual(Buffer.from(got.data), want.data);
}

async function writeRecords(dir: string, n: number, opts: { segmentBytes?: number; size?: number } = {}): Promise<WalPosition[]> {
  const wal = await WriteAheadLog.open({ dir, syncMode: 'never', segmentBytes: opts.segmentBytes });
  const positions = await Promise.all(Array.from({ length: n }, (_, i) => wal.append(record(i, opts.size))));
  await wal.close();
  return positions;
}

test('records appended before close are recovered in order, byte for byte', async (t) => {
  const dir = tempDir(t);
  const wal = await WriteAheadLog.open({ dir, syncMode: 'interval', syncIntervalMs: 5 });
  const recs = Array.from({ length: 50 }, (_, i) => record(i, i * 7, i % 2 ? TOPIC_A : TOPIC_B));
  const positions = await Promise.all(recs.map((r) => wal.append(r)));
  // Appends are written in the order they were made.
  for (let i = 1; i < positions.length; i++) assert.equal(positions[i].offset, positions[i - 1].end);
  assert.equal(positions[0].offset, FILE_HEADER_BYTES);
  await wal.waitDurable(positions[positions.length - 1]);
  await wal.close();

  const again = await WriteAheadLog.open({ dir });
  const got = await collect(again.recover());
  assert.equal(got.length, recs.length);
  got.forEach((r, i) => {
    same(r, recs[i]);
    assert.deepEqual(r.position, positions[i]);
  });
  assert.equal(again.recovery.records, 50);
  assert.deepEqual(again.recovery.truncations, []);
  // Appends continue after the recovered records.
  const next = await again.append(record(50));
  assert.equal(next.offset, positions[positions.length - 1].end);
  await again.close();
  assert.equal((await collect((await reopen(dir)).recover())).length, 51);
});

async function reopen(dir: string): Promise<WriteAheadLog> {
  const wal = await WriteAheadLog.open({ dir, syncMode: 'never' });
  after.push(() => wal.close());
  return wal;
}
const after: (() => Promise<void>)[] = [];
test.after(async () => {
  for (const f of after) await f();
});

test('a missing directory is created, nested', async (t) => {
  const dir = join(tempDir(t), 'data', 'wal');
  assert.equal(existsSync(dir), false);
  const wal = await WriteAheadLog.open({ dir });
  assert.equal(existsSync(dir), true);
  assert.deepEqual(await collect(wal.recover()), []);
  assert.deepEqual(walFiles(dir), ['00000000000000000001.wal']);
  assert.equal(wal.usedBytes(), FILE_HEADER_BYTES);
  await wal.close();
});

test('a flipped byte ends the valid prefix: earlier records survive, later ones and later files go, with a warning', async (t) => {
  const dir = tempDir(t);
  const positions = await writeRecords(dir, 30, { segmentBytes: 600, size: 40 });
  const files = walFiles(dir);
  assert.ok(files.length >= 3, `expected several files, got ${files.length}`);
  // Flip one data byte of record 12, wherever it landed.
  const victim = positions[12];
  const path = join(dir, files.find((f) => Number(f.slice(0, 20)) === victim.file)!);
  const bytes = readFileSync(path);
  bytes[victim.end - 3] ^= 0x10;
  writeFileSync(path, bytes);

  const logger = memoryLogger();
  const wal = await WriteAheadLog.open({ dir, logger, syncMode: 'never', segmentBytes: 600 });
  const got = await collect(wal.recover());
  assert.equal(got.length, 12);
  got.forEach((r, i) => same(r, record(i, 40)));
  const warn = logger.lines.find((l) => l.level === 'warn' && l.obj.reason === 'crc mismatch');
  assert.ok(warn, 'a warning names the corruption');
  assert.equal(warn.obj.file, path);
  assert.equal(warn.obj.offset, victim.offset);
  assert.equal(readFileSync(path).length, victim.offset, 'the file is cut at the bad record');
  assert.ok(walFiles(dir).every((f) => Number(f.slice(0, 20)) <= victim.file), 'later files are removed');
  assert.deepEqual(wal.recovery.truncations.map((x) => x.offset), [victim.offset]);

  // Appends continue after the valid prefix and are recovered next time.
  await wal.append(record(100, 40));
  await wal.close();
  const again = await reopen(dir);
  const after2 = await collect(again.recover());
  assert.equal(after2.length, 13);
  same(after2[12], record(100, 40));
  assert.deepEqual(again.recovery.truncations, []);
});

test('a zeroed block after the last record is cut off', async (t) => {
  const dir = tempDir(t);
  const positions = await writeRecords(dir, 10);
  const path = join(dir, walFiles(dir)[0]);
  appendFileSync(path, Buffer.alloc(4096));
  const logger = memoryLogger();
  const wal = await WriteAheadLog.open({ dir, logger });
  assert.equal((await collect(wal.recover())).length, 10);
  assert.equal(readFileSync(path).length, positions[9].end);
  assert.ok(logger.lines.some((l) => l.level === 'warn' && l.obj.reason === 'zeroed bytes' && l.obj.offset === positions[9].end));
  await wal.close();
});

test('a zeroed block in the middle keeps only the records before it', async (t) => {
  const dir = tempDir(t);
  const positions = await writeRecords(dir, 10);
  const path = join(dir, walFiles(dir)[0]);
  const bytes = readFileSync(path);
  bytes.fill(0, positions[4].offset, positions[6].end);
  writeFileSync(path, bytes);
  const wal = await WriteAheadLog.open({ dir });
  assert.equal((await collect(wal.recover())).length, 4);
  await wal.close();
});

test('a frame whose length runs past the end of the file is a torn tail', async (t) => {
  const dir = tempDir(t);
  const positions = await writeRecords(dir, 5);
  const path = join(dir, walFiles(dir)[0]);
  const bogus = Buffer.alloc(100);
  bogus.writeUInt32BE(1_000_000, 0);
  appendFileSync(path, bogus);
  const logger = memoryLogger();
  const wal = await WriteAheadLog.open({ dir, logger });
  assert.equal((await collect(wal.recover())).length, 5);
  assert.equal(readFileSync(path).length, positions[4].end);
  assert.match(String(logger.lines.find((l) => l.level === 'warn')?.obj.reason), /runs past the end/);
  await wal.close();
});

test('a record cut in half by a crash is dropped', async (t) => {
  const dir = tempDir(t);
  const positions = await writeRecords(dir, 5);
  const path = join(dir, walFiles(dir)[0]);
  truncateSync(path, positions[4].offset + 20);
  const wal = await WriteAheadLog.open({ dir });
  assert.equal((await collect(wal.recover())).length, 4);
  assert.equal(wal.recovery.truncations[0].offset, positions[4].offset);
  await wal.close();
});

test('an empty or header-torn WAL file is removed and earlier files are kept', async (t) => {
  const dir = tempDir(t);
  await writeRecords(dir, 8, { segmentBytes: 400, size: 40 });
  const files = walFiles(dir);
  const lastSeq = Number(files[files.length - 1].slice(0, 20));
  const empty = join(dir, `${String(lastSeq + 1).padStart(20, '0')}.wal`);
  writeFileSync(empty, Buffer.alloc(0));
  const logger = memoryLogger();
  const wal = await WriteAheadLog.open({ dir, logger, segmentBytes: 400 });
  const got = await collect(wal.recover());
  assert.equal(got.length, 8);
  assert.ok(logger.lines.some((l) => l.level === 'warn' && l.obj.file === empty && l.obj.offset === 0));
  assert.deepEqual(wal.recovery.removedFiles, [empty]);
  await wal.close();
});

test('files that are not WAL files are left alone', async (t) => {
  const dir = tempDir(t);
  await writeRecords(dir, 3);
  writeFileSync(join(dir, 'README'), 'not a wal file');
  const wal = await WriteAheadLog.open({ dir });
  assert.equal((await collect(wal.recover())).length, 3);
  await wal.close();
  assert.equal(readFileSync(join(dir, 'README'), 'utf8'), 'not a wal file');
});

test('invalid appends are rejected before they are queued', async (t) => {
  const dir = tempDir(t);
  const wal = await WriteAheadLog.open({ dir, maxBytes: 4096 });
  await assert.rejects(wal.append({ ...record(1), topicId: 'not-a-uuid' }), /invalid uuid/);
  await assert.rejects(wal.append({ ...record(1), lastOffset: -1n }), RangeError);
  await assert.rejects(wal.append({ ...record(1), partition: -2 }), RangeError);
  await assert.rejects(wal.append(record(1, 5000)), WalRecordTooLargeError);
  const pos = await wal.append(record(2));
  assert.equal(pos.offset, FILE_HEADER_BYTES, 'nothing was written for the rejected appends');
  await wal.close();
  await assert.rejects(wal.append(record(3)), WalClosedError);
});
