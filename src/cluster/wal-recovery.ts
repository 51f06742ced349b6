// Reading the records a previous leader left in its WAL, without opening that WAL for writing:
// the previous leader may be dead (kill -9) or only paused (SIGSTOP), and a paused process must
// find its files as it left them. Works when the WAL directory is readable here (same volume).
//
// Only records the previous leader wrote under its own lease (`epoch`) at or above the committed
// end are taken: anything else is committed already or from an older, superseded leader. A gap
// (an append the WAL refused after later offsets were handed out) stays a gap, as it did there.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FILE_HEADER_BYTES, checkFileHeader, parseFileName, scanFrames, type WalRecord } from '../wal/format.js';

export async function readPartitionRecords(
  walDir: string,
  topicId: string,
  partition: number,
  epoch: number,
  fromOffset: bigint,
): Promise<WalRecord[]> {
  let names: string[];
  try {
    names = await readdir(walDir);
  } catch {
    return []; // not on this volume, or never written
  }
  const seqs = names.map((n) => ({ n, seq: parseFileName(n) })).filter((x): x is { n: string; seq: number } => x.seq !== undefined);
  seqs.sort((a, b) => a.seq - b.seq);
  const out: WalRecord[] = [];
  let next = fromOffset;
  for (const { n, seq } of seqs) {
    let buf: Buffer;
    try {
      buf = await readFile(join(walDir, n));
    } catch {
      continue; // trimmed meanwhile: its records are committed
    }
    if (!checkFileHeader(buf, seq).ok) break;
    scanFrames(buf, seq, FILE_HEADER_BYTES, (r) => {
      if (r.topicId !== topicId || r.partition !== partition || r.leaderEpoch !== epoch) return;
      if (r.baseOffset < next) return; // committed already (or a replay of a range seen)
      out.push({ ...r, data: Buffer.from(r.data) });
      next = r.lastOffset + 1n;
    });
  }
  return out;
}
