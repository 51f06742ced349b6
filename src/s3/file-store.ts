// `file:` object store: one file per object under a root directory. Used by the embedded default
// (`<data-dir>/objects`) and by tests. Puts are atomic (temp file + fsync + rename + directory
// fsync), so after a crash a key holds either its old or its new content, never a torn write.
//
// Deviations from S3: directories emptied by delete() are left behind (harmless, and removing them
// would race with a concurrent put into the same directory); temp files of a crashed put stay as
// `.~tmp.*` files, which list() ignores.

import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  ObjectNotFoundError,
  TEMP_PREFIX,
  observed,
  validateKey,
  validatePrefix,
  validateRange,
  type ObjectInfo,
  type ObjectStore,
  type OnRequest,
} from './object-store.js';

export interface FileStoreOptions {
  /** Skip fsync (tests and throwaway data only): faster, but a crash can lose acknowledged puts. */
  noSync?: boolean;
  onRequest?: OnRequest;
}

export class FileStore implements ObjectStore {
  readonly root: string;
  private readonly sync: boolean;
  private readonly onRequest: OnRequest | undefined;

  constructor(root: string, opts: FileStoreOptions = {}) {
    this.root = path.resolve(root);
    this.sync = !opts.noSync;
    this.onRequest = opts.onRequest;
  }

  /** Creates the root directory if needed. */
  static async open(root: string, opts: FileStoreOptions = {}): Promise<FileStore> {
    const store = new FileStore(root, opts);
    await fs.mkdir(store.root, { recursive: true });
    return store;
  }

  private pathOf(key: string): string {
    validateKey(key);
    const p = path.join(this.root, ...key.split('/'));
    // validateKey already rejects '..'; this guards against anything it might have missed.
    if (!p.startsWith(this.root + path.sep)) {
      throw new Error(`object key '${key}' resolves outside the store root ${this.root}`);
    }
    return p;
  }

  put(key: string, body: Buffer): Promise<void> {
    return observed(this.onRequest, 'put', async () => {
      const file = this.pathOf(key);
      const dir = path.dirname(file);
      await fs.mkdir(dir, { recursive: true });
      const tmp = path.join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
      try {
        const fh = await fs.open(tmp, 'wx');
        try {
          await fh.writeFile(body);
          if (this.sync) await fh.sync();
        } finally {
          await fh.close();
        }
        await fs.rename(tmp, file);
      } catch (err) {
        await fs.rm(tmp, { force: true }).catch(() => {});
        throw err;
      }
      // The rename is durable only once the directory entry is on disk.
      if (this.sync) await syncDir(dir);
    });
  }

  get(key: string): Promise<Buffer> {
    return observed(this.onRequest, 'get', async () => {
      try {
        return await fs.readFile(this.pathOf(key));
      } catch (err) {
        throw this.mapMissing(err, key);
      }
    });
  }

  getRange(key: string, start: number, endExclusive: number): Promise<Buffer> {
    return observed(this.onRequest, 'getRange', async () => {
      validateRange(start, endExclusive);
      let fh: fs.FileHandle;
      try {
        fh = await fs.open(this.pathOf(key), fsConstants.O_RDONLY);
      } catch (err) {
        throw this.mapMissing(err, key);
      }
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw new ObjectNotFoundError(key, this.where);
        const size = st.size;
        const end = Math.min(endExclusive, size);
        if (start >= end) return Buffer.alloc(0);
        const buf = Buffer.allocUnsafe(end - start);
        let filled = 0;
        while (filled < buf.length) {
          const { bytesRead } = await fh.read(buf, filled, buf.length - filled, start + filled);
          if (bytesRead === 0) break; // cannot happen for immutable objects; do not spin
          filled += bytesRead;
        }
        return filled === buf.length ? buf : buf.subarray(0, filled);
      } catch (err) {
        throw this.mapMissing(err, key);
      } finally {
        await fh.close();
      }
    });
  }

  head(key: string): Promise<{ size: number } | null> {
    return observed(this.onRequest, 'head', async () => {
      try {
        const st = await fs.stat(this.pathOf(key));
        return st.isFile() ? { size: st.size } : null;
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    });
  }

  delete(key: string): Promise<void> {
    return observed(this.onRequest, 'delete', async () => {
      try {
        await fs.unlink(this.pathOf(key));
      } catch (err) {
        if (isMissing(err)) return;
        // A directory at that key is not an object, so there is nothing to delete either
        // (Linux reports EISDIR, macOS EPERM).
        if (code(err) === 'EISDIR' || code(err) === 'EPERM') {
          const st = await fs.stat(this.pathOf(key)).catch(() => null);
          if (st?.isDirectory()) return;
        }
        throw err;
      }
    });
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const k of keys) validateKey(k);
    for (const k of keys) await this.delete(k);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix); // eagerly, so a bad prefix throws at the call, not at the first next()
    // Start at the deepest directory the prefix names completely; the rest filters by name.
    const cut = prefix.lastIndexOf('/');
    const dirKey = cut < 0 ? '' : prefix.slice(0, cut + 1);
    return this.walk(dirKey, prefix);
  }

  /**
   * Yields objects under directory `dirKey` (a key prefix ending in '/', or '') in the byte order
   * of their full keys, as S3 lists them. Within one directory that order is the order of
   * `name` for files and `name + '/'` for subdirectories, because every key below a subdirectory
   * starts with `name/` and no file in the same directory can share that name.
   */
  private async *walk(dirKey: string, prefix: string): AsyncGenerator<ObjectInfo> {
    const dir = dirKey === '' ? this.root : path.join(this.root, ...dirKey.slice(0, -1).split('/'));
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err) || code(err) === 'ENOTDIR') return;
      throw err;
    }
    const items = entries
      .filter((e) => !e.name.startsWith(TEMP_PREFIX) && (e.isFile() || e.isDirectory()))
      .map((e) => ({ e, sortKey: Buffer.from(dirKey + e.name + (e.isDirectory() ? '/' : '')) }))
      .sort((a, b) => Buffer.compare(a.sortKey, b.sortKey));
    for (const { e } of items) {
      const key = dirKey + e.name;
      if (e.isDirectory()) {
        const sub = key + '/';
        // Descend only where the prefix can still match below.
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) yield* this.walk(sub, prefix);
        continue;
      }
      if (!key.startsWith(prefix)) continue;
      try {
        const st = await fs.stat(path.join(dir, e.name));
        yield { key, size: st.size, lastModified: st.mtime };
      } catch (err) {
        if (!isMissing(err)) throw err; // deleted while listing: S3 would not show it either
      }
    }
  }

  async close(): Promise<void> {}

  private get where(): string {
    return `file store ${this.root}`;
  }

  private mapMissing(err: unknown, key: string): unknown {
    return isMissing(err) || code(err) === 'EISDIR' ? new ObjectNotFoundError(key, this.where) : err;
  }
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function isMissing(err: unknown): boolean {
  return code(err) === 'ENOENT' || code(err) === 'ENOTDIR';
}

async function syncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, fsConstants.O_RDONLY);
    await fh.sync();
  } catch (err) {
    // Windows cannot open or fsync a directory; elsewhere a failure here is real.
    if (process.platform !== 'win32') throw err;
  } finally {
    await fh?.close();
  }
}
