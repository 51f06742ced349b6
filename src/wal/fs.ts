// The few file-system operations the WAL needs, behind an interface so tests can inject faults
// (ENOSPC, EIO), count fsyncs and simulate a crash that loses unsynced bytes.

import { open, readdir, readFile, mkdir, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

export interface WalFile {
  /** pwrite; may write fewer bytes than asked (the caller loops). */
  write(buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Makes the written bytes and the file size durable (fdatasync). */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface WalFs {
  mkdir(dir: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
  /** 'create' fails if the file exists; 'existing' opens it for positional writes. */
  open(path: string, mode: 'create' | 'existing'): Promise<WalFile>;
  unlink(path: string): Promise<void>;
  /** Makes file creations and deletions in `dir` durable. */
  syncDir(dir: string): Promise<void>;
}

class NodeWalFile implements WalFile {
  constructor(private readonly fh: FileHandle) {}

  async write(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    const { bytesWritten } = await this.fh.write(buf, offset, length, position);
    return bytesWritten;
  }
  sync(): Promise<void> {
    return this.fh.datasync();
  }
  truncate(length: number): Promise<void> {
    return this.fh.truncate(length);
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

export const nodeWalFs: WalFs = {
  async mkdir(dir) {
    await mkdir(dir, { recursive: true });
  },
  readdir: (dir) => readdir(dir),
  readFile: (path) => readFile(path),
  async open(path, mode) {
    return new NodeWalFile(await open(path, mode === 'create' ? 'wx' : 'r+'));
  },
  unlink: (path) => unlink(path),
  async syncDir(dir) {
    let fh: FileHandle;
    try {
      fh = await open(dir, 'r');
    } catch (err) {
      // Windows cannot open a directory; its file systems do not need the directory flushed.
      if (process.platform === 'win32') return;
      throw err;
    }
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};
