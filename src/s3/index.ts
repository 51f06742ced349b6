// Chooses the object-store backend from a URL, as tansu does:
//   file:///abs/path, file:relative/path  -> FileStore (local directory)
//   s3://bucket[/prefix]                  -> S3Store (endpoint from --s3-endpoint)

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from './file-store.js';
import type { ObjectStore, OnRequest } from './object-store.js';
import { S3Store, type S3StoreOptions } from './s3-store.js';

export * from './object-store.js';
export { FileStore, type FileStoreOptions } from './file-store.js';
export { S3Store, type S3StoreOptions } from './s3-store.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';

export const ACCEPTED_FORMS = 'file:///absolute/path, file:relative/path or s3://bucket[/prefix]';

export type ObjectStoreLocation =
  | { kind: 'file'; root: string }
  | { kind: 's3'; bucket: string; prefix: string };

export interface OpenObjectStoreOptions {
  /** Custom S3 endpoint (MinIO, s3rver); implies path-style addressing. */
  s3Endpoint?: string;
  s3Region?: string;
  /** Tuning for the S3 backend: retries, timeouts, multipart sizes. */
  s3?: Omit<S3StoreOptions, 'bucket' | 'prefix' | 'endpoint' | 'region' | 'onRequest'>;
  /** Directory that `file:relative` paths are resolved against (default: the working directory). */
  baseDir?: string;
  /** FileStore without fsync: tests only. */
  fileNoSync?: boolean;
  onRequest?: OnRequest;
}

function bad(url: string, why: string): Error {
  return new Error(`invalid object store URL '${url}': ${why}; use ${ACCEPTED_FORMS}`);
}

/** Parses an object-store URL without touching the disk or the network; throws on a bad URL. */
export function parseObjectStoreUrl(url: string, baseDir: string = process.cwd()): ObjectStoreLocation {
  if (typeof url !== 'string' || url.trim() === '') throw bad(String(url), 'it is empty');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    const rest = url.slice('file:'.length);
    if (rest === '') throw bad(url, 'no path given');
    // 'file:relative' is not a WHATWG-style URL (it would become '/relative'), so handle it here.
    if (!rest.startsWith('/')) return { kind: 'file', root: path.resolve(baseDir, rest) };
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw bad(url, 'it does not parse as a file URL');
    }
    if (parsed.hostname !== '' && parsed.hostname !== 'localhost') {
      throw bad(url, `file URLs must name a local path, not host '${parsed.hostname}'`);
    }
    if (parsed.search || parsed.hash) throw bad(url, 'file URLs take no query or fragment');
    return { kind: 'file', root: fileURLToPath(parsed) };
  }
  if (scheme === 's3') {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw bad(url, 'it does not parse as a URL');
    }
    const bucket = parsed.hostname;
    if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw bad(url, `'${bucket}' is not a valid bucket name (3-63 lowercase letters, digits, '.', '-')`);
    }
    if (parsed.port || parsed.username || parsed.password) {
      throw bad(url, 'put the endpoint in --s3-endpoint and credentials in the AWS environment, not in the URL');
    }
    if (parsed.search || parsed.hash) throw bad(url, 's3 URLs take no query or fragment');
    // Read the path from the raw string: URL parsing would silently resolve 'a/../b' to 'b'.
    const afterHost = url.slice(url.indexOf('//') + 2);
    const rawPath = afterHost.includes('/') ? afterHost.slice(afterHost.indexOf('/')) : '';
    let prefix: string;
    try {
      prefix = decodeURIComponent(rawPath).replace(/^\/+|\/+$/g, '');
    } catch {
      throw bad(url, 'the prefix has a broken percent-escape');
    }
    if (prefix.split('/').some((s) => s === '.' || s === '..') || prefix.includes('//')) {
      throw bad(url, `prefix '${prefix}' has an empty, '.' or '..' segment`);
    }
    return { kind: 's3', bucket, prefix };
  }
  throw bad(url, scheme ? `unknown scheme '${scheme}:'` : 'it has no scheme');
}

/** Opens the store a URL names. The `file:` root directory is created if missing. */
export async function openObjectStore(url: string, opts: OpenObjectStoreOptions = {}): Promise<ObjectStore> {
  const loc = parseObjectStoreUrl(url, opts.baseDir);
  if (loc.kind === 'file') {
    return FileStore.open(loc.root, { noSync: opts.fileNoSync, onRequest: opts.onRequest });
  }
  return new S3Store({
    ...opts.s3,
    bucket: loc.bucket,
    prefix: loc.prefix,
    endpoint: opts.s3Endpoint,
    region: opts.s3Region,
    onRequest: opts.onRequest,
  });
}
