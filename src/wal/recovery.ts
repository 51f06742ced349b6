// Opening a WAL directory after a clean stop or a crash: find the longest valid prefix of frames
// across the files in sequence order, cut everything after it, and summarize what each kept file
// holds. Corruption is never fatal: a torn write, zeroed blocks or a flipped byte end the prefix.

import { join } from 'node:path';
import { FileCoverage, partitionKey } from './coverage.js';
import { WalFormatError, WalStorageError } from './errors.js';
import { FILE_HEADER_BYTES, checkFileHeader, fileName, parseFileName, scanFrames } from './format.js';
import type { WalFs } from './fs.js';
import type { WalLogger } from './logger.js';

export interface RecoveredFile {
  seq: number;
  path: string;
  /** Bytes of the valid prefix, header included: where appends continue. */
  size: number;
  coverage: FileCoverage;
}

export interface Truncation {
  file: string;
  /** Byte offset where the valid prefix ended; 0 when the file header itself was bad. */
  offset: number;
  reason: string;
  droppedBytes: number;
}

export interface RecoveryReport {
  /** WAL files kept. */
  files: number;
  /** Valid records kept, over all files. */
  records: number;
  /** Bytes kept, file headers included. */
  bytes: number;
  /** At most one entry: where the valid prefix ended, if it did not end at the last byte. */
  truncations: Truncation[];
  /** Files removed because they came after the end of the valid prefix (or had a bad header). */
  removedFiles: string[];
}

export async function recoverDirectory(
  fs: WalFs,
  dir: string,
  log: WalLogger,
): Promise<{ files: RecoveredFile[]; report: RecoveryReport }> {
  await io(`create the WAL directory ${dir}`, () => fs.mkdir(dir));
  const names = await io(`list the WAL directory ${dir}`, () => fs.readdir(dir));
  const seqs = names
    .map(parseFileName)
    .filter((s): s is number => s !== undefined)
    .sort((a, b) => a - b);

  const files: RecoveredFile[] = [];
  const report: RecoveryReport = { files: 0, records: 0, bytes: 0, truncations: [], removedFiles: [] };
  let broken: { index: number; truncation: Truncation; removeWhole: boolean } | undefined;

  for (let i = 0; i < seqs.length && broken === undefined; i++) {
    const seq = seqs[i];
    const path = join(dir, fileName(seq));
    const buf = await io(`read WAL file ${path}`, () => fs.readFile(path));
    const header = checkFileHeader(buf, seq);
    if (!header.ok) {
      if (header.kind === 'version') {
        throw new WalFormatError(
          `WAL file ${path}: ${header.reason}. Run the StreamHouse version that wrote it, ` +
            'or move the WAL directory away to start without its unflushed records.',
        );
      }
      broken = { index: i, removeWhole: true, truncation: { file: path, offset: 0, reason: header.reason, droppedBytes: buf.length } };
      break;
    }
    const coverage = new FileCoverage();
    let records = 0;
    const scan = scanFrames(buf, seq, FILE_HEADER_BYTES, (r) => {
      coverage.add(partitionKey(r.topicId, r.partition), r.lastOffset);
      records++;
    });
    files.push({ seq, path, size: scan.end, coverage });
    report.records += records;
    report.bytes += scan.end;
    if (scan.problem !== null) {
      broken = {
        index: i,
        removeWhole: false,
        truncation: { file: path, offset: scan.end, reason: scan.problem, droppedBytes: buf.length - scan.end },
      };
    }
  }

  if (broken !== undefined) {
    const { index, truncation, removeWhole } = broken;
    log.warn(
      { file: truncation.file, offset: truncation.offset, reason: truncation.reason, droppedBytes: truncation.droppedBytes },
      'WAL valid prefix ends here: the rest of this file and all later WAL files are discarded',
    );
    report.truncations.push(truncation);
    // Later files go first (newest first): if we crash half-way, the next recovery still finds the
    // same break and never keeps records that follow a hole.
    const doomed = seqs.slice(index + (removeWhole ? 0 : 1)).reverse();
    for (const seq of doomed) {
      const path = join(dir, fileName(seq));
      await io(`remove WAL file ${path}`, () => fs.unlink(path));
      report.removedFiles.push(path);
      if (path !== truncation.file) log.warn({ file: path }, 'WAL file after the end of the valid prefix removed');
    }
    if (doomed.length > 0) await io(`sync the WAL directory ${dir}`, () => fs.syncDir(dir));
    if (!removeWhole) await truncateFile(fs, truncation.file, truncation.offset);
  }

  report.files = files.length;
  return { files, report };
}

async function truncateFile(fs: WalFs, path: string, length: number): Promise<void> {
  const file = await io(`open WAL file ${path}`, () => fs.open(path, 'existing'));
  try {
    await io(`truncate WAL file ${path}`, () => file.truncate(length));
    await io(`sync WAL file ${path}`, () => file.sync());
  } finally {
    await file.close();
  }
}

async function io<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw new WalStorageError(`cannot ${what}: check the disk and the permissions of the WAL directory`, err);
  }
}
