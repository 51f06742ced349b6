// Quick WAL throughput check (not a test): node dist/test/wal/wal-bench.js [seconds]
// Appends 1 KiB records with a given number in flight, in each sync mode, and prints appends/s and MB/s.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WriteAheadLog } from '../../src/wal/wal.js';
import type { SyncMode } from '../../src/wal/wal.js';

const seconds = Number(process.argv[2] ?? 2);
const data = Buffer.alloc(1024, 7);
const topicId = '3f2b8c1e-7d4a-4e5b-9c6d-1a2b3c4d5e6f';

async function run(syncMode: SyncMode, inFlight: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sh-wal-bench-'));
  let fsyncs = 0;
  const wal = await WriteAheadLog.open({ dir, syncMode, maxBytes: 8 * 1024 ** 3, onSync: () => fsyncs++ });
  let n = 0;
  const until = Date.now() + seconds * 1000;
  const t0 = performance.now();
  while (Date.now() < until) {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < inFlight; i++, n++) {
      batch.push(wal.append({ topicId, partition: n % 16, baseOffset: BigInt(n), lastOffset: BigInt(n), leaderEpoch: 0, data }));
    }
    await Promise.all(batch);
  }
  const secs = (performance.now() - t0) / 1000;
  await wal.close();
  rmSync(dir, { recursive: true, force: true });
  const rate = n / secs;
  console.log(
    `${syncMode.padEnd(8)} in-flight ${String(inFlight).padStart(5)}: ${Math.round(rate).toLocaleString('en-US').padStart(9)} appends/s ` +
      `${((rate * data.length) / 1e6).toFixed(1).padStart(7)} MB/s  fsyncs ${fsyncs}`,
  );
}

for (const [mode, inFlight] of [
  ['interval', 1],
  ['interval', 100],
  ['interval', 1000],
  ['always', 1],
  ['always', 100],
  ['always', 1000],
] as const) {
  await run(mode, inFlight);
}
