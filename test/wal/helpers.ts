// Test support for the WAL: a file-system wrapper that counts fsyncs, remembers how many bytes of
// each file an fsync made durable, injects errno failures, and can "crash" (drop every handle and
// cut each file back to its synced bytes plus a torn tail).

import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeWalFs } from '../../src/wal/fs.js';
import type { WalFile, WalFs } from '../../src/wal/fs.js';
import type { WalAppend } from '../../src/wal/format.js';
import type { WalLogger } from '../../src/wal/logger.js';

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sh-wal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const TOPIC_A = '3f2b8c1e-7d4a-4e5b-9c6d-1a2b3c4d5e6f';
export const TOPIC_B = 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d';

/** Record i of a deterministic stream: partition i % 3, offsets i*10 .. i*10+9, payload of `size`. */
export function record(i: number, size = 32, topicId = TOPIC_A): WalAppend {
  const data = Buffer.alloc(size);
  for (let j = 0; j < size; j++) data[j] = (i * 31 + j) & 0xff;
  return { topicId, partition: i % 3, baseOffset: BigInt(i * 10), lastOffset: BigInt(i * 10 + 9), leaderEpoch: 7, data };
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

export function memoryLogger(): WalLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: object, msg?: string) => {
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

function errno(code: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: injected fault`);
  err.code = code;
  return err;
}

export class FaultFs implements WalFs {
  syncs = 0;
  writes = 0;
  /** Durable length per file path, as of the last fsync of that file. */
  readonly synced = new Map<string, number>();
  /** When set, every write fails with this errno code (after writing `partialBytes`). */
  failWrites: string | null = null;
  partialBytes = 0;
  failSyncs: string | null = null;
  failTruncates: string | null = null;
  private readonly open_ = new Set<WalFile>();

  constructor(private readonly inner: WalFs = nodeWalFs) {}

  mkdir(dir: string) {
    return this.inner.mkdir(dir);
  }
  readdir(dir: string) {
    return this.inner.readdir(dir);
  }
  readFile(path: string) {
    return this.inner.readFile(path);
  }
  unlink(path: string) {
    this.synced.delete(path);
    return this.inner.unlink(path);
  }
  syncDir(dir: string) {
    return this.inner.syncDir(dir);
  }

  async open(path: string, mode: 'create' | 'existing'): Promise<WalFile> {
    const file = await this.inner.open(path, mode);
    let length = mode === 'create' ? 0 : readFileSync(path).length;
    const fs = this;
    const wrapped: WalFile = {
      async write(buf, offset, len, position) {
        fs.writes++;
        if (fs.failWrites !== null) {
          const part = Math.min(fs.partialBytes, len);
          if (part > 0) {
            await file.write(buf, offset, part, position);
            length = Math.max(length, position + part);
          }
          throw errno(fs.failWrites);
        }
        const n = await file.write(buf, offset, len, position);
        length = Math.max(length, position + n);
        return n;
      },
      async sync() {
        if (fs.failSyncs !== null) throw errno(fs.failSyncs);
        await file.sync();
        fs.syncs++;
        fs.synced.set(path, length);
      },
      async truncate(len) {
        if (fs.failTruncates !== null) throw errno(fs.failTruncates);
        await file.truncate(len);
        length = len;
      },
      async close() {
        fs.open_.delete(wrapped);
        await file.close();
      },
    };
    this.open_.add(wrapped);
    return wrapped;
  }

  /** Drops every open handle without syncing, as a killed process would. */
  async abandonHandles(): Promise<void> {
    for (const f of [...this.open_]) await f.close();
  }
}

export type TornTail = { kind: 'unsynced' | 'garbage' | 'zeros'; bytes: number; seed: number };

/**
 * Simulates a power loss after `fs` wrote to `dir`: each file it synced keeps its synced bytes plus
 * `tail` (a piece of the unsynced bytes, random garbage, or zeros); fully synced files stay.
 */
export function crash(dir: string, fs: FaultFs, tail: TornTail): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const synced = fs.synced.get(path);
    if (synced === undefined) continue;
    const content = readFileSync(path);
    // Only a file with unsynced writes can come back with a torn tail, and at most as long as them.
    const unsynced = content.length - synced;
    if (unsynced <= 0) continue;
    const bytes = Math.min(tail.bytes, unsynced);
    let extra: Buffer;
    if (tail.kind === 'unsynced') extra = content.subarray(synced, synced + bytes);
    else if (tail.kind === 'zeros') extra = Buffer.alloc(bytes);
    else {
      extra = Buffer.alloc(bytes);
      let x = tail.seed | 1;
      for (let i = 0; i < extra.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        extra[i] = x & 0xff;
      }
    }
    writeFileSync(path, Buffer.concat([content.subarray(0, synced), extra]));
  }
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function walFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.wal')).sort();
}
