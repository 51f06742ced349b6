// Storage faults: a failed write or fsync rejects exactly the appends it carried, leaves a valid
// WAL behind, and the WAL works again once the fault clears.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { WriteAheadLog, WalStorageError, KAFKA_STORAGE_ERROR } from '../../src/wal/wal.js';
import type { WalPosition } from '../../src/wal/wal.js';
import { fileName, frameSize } from '../../src/wal/format.js';
import { FaultFs, collect, record, tempDir } from './helpers.js';

function isStorageError(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof WalStorageError, `expected WalStorageError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.retriable, true);
    assert.equal(err.kafkaErrorCode, KAFKA_STORAGE_ERROR);
    return true;
  };
}

async function recoveredOffsets(dir: string): Promise<{ offsets: bigint[]; truncated: number }> {
  const wal = await WriteAheadLog.open({ dir, syncMode: 'never' });
  const offsets = (await collect(wal.recover())).map((r) => r.baseOffset);
  const truncated = wal.recovery.truncations.length;
  await wal.close();
  return { offsets, truncated };
}

test('ENOSPC on write: the appends reject, the half-written bytes are cut off, later appends succeed', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultFs();
  const wal = await WriteAheadLog.open({ dir, fs, syncMode: 'interval' });
  let last: WalPosition | undefined;
  for (let i = 0; i < 5; i++) last = await wal.append(record(i));

  fs.failWrites = 'ENOSPC';
  fs.partialBytes = 30; // the disk took part of the batch before it filled up
  const failed = await Promise.allSettled([5, 6, 7].map((i) => wal.append(record(i))));
  for (const r of failed) {
    assert.equal(r.status, 'rejected');
    isStorageError('ENOSPC')(r.reason);
  }
  assert.equal(statSync(join(dir, fileName(1))).size, last!.end, 'no half-written record remains');

  fs.failWrites = null;
  const next = await wal.append(record(8));
  assert.equal(next.offset, last!.end);
  await wal.close();
  assert.deepEqual(await recoveredOffsets(dir), { offsets: [0n, 10n, 20n, 30n, 40n, 80n], truncated: 0 });
});

test('ENOSPC then a crash: reopening recovers every acknowledged record', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultFs();
  const wal = await WriteAheadLog.open({ dir, fs, syncMode: 'always' });
  for (let i = 0; i < 4; i++) await wal.append(record(i));
  fs.failWrites = 'ENOSPC';
  fs.partialBytes = 10;
  await assert.rejects(wal.append(record(4)), isStorageError('ENOSPC'));
  await fs.abandonHandles(); // kill -9
  assert.deepEqual(await recoveredOffsets(dir), { offsets: [0n, 10n, 20n, 30n], truncated: 0 });
});

test('when the file cannot even be cut back, appends keep failing until it can, and no junk is left', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultFs();
  const wal = await WriteAheadLog.open({ dir, fs, syncMode: 'never' });
  const first = await wal.append(record(0));
  fs.failWrites = 'EIO';
  fs.partialBytes = frameSize(32) - 5;
  fs.failTruncates = 'EIO';
  await assert.rejects(wal.append(record(1)), isStorageError('EIO'));
  fs.failWrites = null;
  await assert.rejects(wal.append(record(2)), WalStorageError, 'a dirty tail blocks appends');
  fs.failTruncates = null;
  const pos = await wal.append(record(3));
  assert.equal(pos.offset, first.end);
  await wal.close();
  assert.equal(statSync(join(dir, fileName(1))).size, pos.end);
  assert.deepEqual(await recoveredOffsets(dir), { offsets: [0n, 30n], truncated: 0 });
});

test('EIO on fsync in always mode: the batch rejects and is removed from the file', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultFs();
  const wal = await WriteAheadLog.open({ dir, fs, syncMode: 'always' });
  const first = await wal.append(record(0));
  fs.failSyncs = 'EIO';
  const failed = await Promise.allSettled([1, 2].map((i) => wal.append(record(i))));
  assert.deepEqual(failed.map((r) => r.status), ['rejected', 'rejected']);
  isStorageError('EIO')((failed[0] as PromiseRejectedResult).reason);
  assert.equal(statSync(join(dir, fileName(1))).size, first.end);
  fs.failSyncs = null;
  const pos = await wal.append(record(3));
  assert.equal(pos.offset, first.end);
  await wal.close();
  assert.deepEqual(await recoveredOffsets(dir), { offsets: [0n, 30n], truncated: 0 });
});

test('a failed roll rejects the waiting appends and leaves the active file usable', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultFs();
  const segmentBytes = 16 + 2 * frameSize(32);
  const wal = await WriteAheadLog.open({ dir, fs, syncMode: 'never', segmentBytes });
  await wal.append(record(0));
  await wal.append(record(1));
  fs.failWrites = 'ENOSPC'; // creating the next file's header fails
  await assert.rejects(wal.append(record(2)), isStorageError('ENOSPC'));
  fs.failWrites = null;
  await wal.append(record(3));
  await wal.close();
  assert.deepEqual(await recoveredOffsets(dir), { offsets: [0n, 10n, 30n], truncated: 0 });
});

test('a failed periodic fsync rejects waitDurable but not the already acknowledged appends', async (t) => {
  const dir = tempDir(t);
  const fs = new FaultFs();
  const wal = await WriteAheadLog.open({ dir, fs, syncMode: 'interval', syncIntervalMs: 10 });
  fs.failSyncs = 'EIO';
  const pos = await wal.append(record(0));
  await assert.rejects(wal.waitDurable(pos), isStorageError('EIO'));
  fs.failSyncs = null;
  await wal.waitDurable(pos);
  await wal.close();
});
