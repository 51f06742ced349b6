// The disk's raw fsync rate: the physical ceiling for a WAL that fsyncs every group commit.
// Appends 4 KiB blocks to a temp file and fsyncs after each one, back to back on one thread, for
// a fixed time. Synchronous calls keep the event loop out of the figure, so this is what the disk
// (and the filesystem's journal) allow, not what Node's thread pool adds on top.
//
//   node dist/bench/fsync-probe.js [dir] [seconds]
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FsyncProbeResult {
  /** Directory the probe file lived in (pass the broker's data dir's parent to test that disk). */
  dir: string;
  fsyncs: number;
  seconds: number;
  fsyncsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function probeFsync(opts: { dir?: string; seconds?: number; blockBytes?: number } = {}): FsyncProbeResult {
  const parent = opts.dir ?? tmpdir();
  const seconds = opts.seconds ?? 2;
  const block = Buffer.alloc(opts.blockBytes ?? 4096, 0x5a);
  const dir = mkdtempSync(join(parent, 'sh-fsync-probe-'));
  const fd = openSync(join(dir, 'probe'), 'w');
  const latencies: number[] = [];
  try {
    // One untimed round so file creation and the first extent allocation do not count.
    writeSync(fd, block);
    fsyncSync(fd);
    const start = performance.now();
    const end = start + seconds * 1000;
    let now = start;
    while (now < end) {
      writeSync(fd, block);
      fsyncSync(fd);
      const t = performance.now();
      latencies.push(t - now);
      now = t;
    }
    const elapsed = (now - start) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return {
      dir: parent,
      fsyncs: latencies.length,
      seconds: elapsed,
      fsyncsPerSec: latencies.length / elapsed,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: latencies[latencies.length - 1],
    };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = probeFsync({ dir: process.argv[2], seconds: process.argv[3] ? Number(process.argv[3]) : undefined });
  console.log(JSON.stringify(r));
}
