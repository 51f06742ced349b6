// The object-store seam: segments, snapshots and other immutable blobs live behind this small
// interface, with a local-directory backend (file-store.ts) and an S3 backend (s3-store.ts).
//
// Keys are '/'-separated relative paths such as `topics/<topicId>/0/00000000000000000000-0-ab.seg`.
// Both backends accept the same key syntax (see validateKey) so a key that works on a laptop's
// `file:` store also works on S3, and the reverse.

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
}

/** Outcome of one request, reported to the observability layer through `onRequest`. */
export type RequestOutcome = 'ok' | 'error' | 'retry';

/**
 * Called once per request attempt: 'retry' when the attempt failed and another follows, 'error'
 * when the operation gives up, 'ok' on success. `seconds` is that attempt's duration.
 */
export type OnRequest = (op: string, outcome: RequestOutcome, seconds: number) => void;

export interface ObjectStore {
  /** Writes the whole object; readers see either the old or the new content, never a mix. */
  put(key: string, body: Buffer): Promise<void>;
  /** Throws ObjectNotFoundError when the key is absent. */
  get(key: string): Promise<Buffer>;
  /**
   * Bytes [start, endExclusive) of the object. An end past the object's size is clamped; a start at
   * or past the size gives an empty buffer. Throws ObjectNotFoundError when the key is absent.
   */
  getRange(key: string, start: number, endExclusive: number): Promise<Buffer>;
  /** null when the key is absent. */
  head(key: string): Promise<{ size: number } | null>;
  /** Deleting an absent key succeeds (as on S3), so retries and garbage collection are idempotent. */
  delete(key: string): Promise<void>;
  /** Batched delete where the backend has one; callers fall back to delete() when absent. */
  deleteMany?(keys: readonly string[]): Promise<void>;
  /**
   * Every object whose key starts with `prefix` (a plain string prefix, not only a directory).
   * Order is unspecified: the file store and AWS S3 give UTF-8 byte order, s3rver does not.
   * A bad prefix throws at the call.
   */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  close(): Promise<void>;
}

export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(readonly key: string, where: string) {
    super(`object not found: '${key}' in ${where}`);
  }
}

/** A key or prefix that the store refuses (escapes the root, empty segment, ...). */
export class InvalidObjectKeyError extends Error {
  override readonly name = 'InvalidObjectKeyError';
}

// Temporary files of the file store use this name prefix; keys may not, so a half-written
// temp file can never be mistaken for an object.
export const TEMP_PREFIX = '.~tmp.';

/** Throws InvalidObjectKeyError unless `key` is a clean relative '/'-separated path. */
export function validateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidObjectKeyError('object key must be a non-empty string');
  }
  checkSegments(key, key.split('/'), 'key');
}

/**
 * A list prefix may be '' or end in the middle of a segment ('topics/ab' lists 'topics/abc/...'),
 * so only its complete segments are checked.
 */
export function validatePrefix(prefix: string): void {
  if (typeof prefix !== 'string') throw new InvalidObjectKeyError('list prefix must be a string');
  if (prefix === '') return;
  const segments = prefix.split('/');
  const last = segments.pop()!;
  if (last.includes('\0')) throw new InvalidObjectKeyError(`list prefix '${prefix}' contains a NUL byte`);
  checkSegments(prefix, segments, 'list prefix');
}

function checkSegments(whole: string, segments: string[], what: string): void {
  for (const s of segments) {
    if (s === '') {
      throw new InvalidObjectKeyError(
        `${what} '${whole}' has an empty path segment (leading, trailing or double '/'); use a relative path like 'a/b/c'`,
      );
    }
    if (s === '.' || s === '..') {
      throw new InvalidObjectKeyError(`${what} '${whole}' contains '${s}'; keys must not leave the store's root`);
    }
    if (s.includes('\0') || s.includes('\\')) {
      throw new InvalidObjectKeyError(`${what} '${whole}' contains a NUL byte or a backslash`);
    }
    if (s.startsWith(TEMP_PREFIX)) {
      throw new InvalidObjectKeyError(`${what} '${whole}' uses the reserved segment prefix '${TEMP_PREFIX}'`);
    }
  }
}

/** Shared argument check for getRange, so both backends reject the same calls. */
export function validateRange(start: number, endExclusive: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(endExclusive) || start < 0 || endExclusive < start) {
    throw new RangeError(`invalid byte range [${start}, ${endExclusive}): need 0 <= start <= end`);
  }
}

/** Runs one store operation and reports its duration and outcome (for backends without retries). */
export async function observed<T>(onRequest: OnRequest | undefined, op: string, fn: () => Promise<T>): Promise<T> {
  if (!onRequest) return fn();
  const t0 = performance.now();
  try {
    const v = await fn();
    onRequest(op, 'ok', (performance.now() - t0) / 1000);
    return v;
  } catch (err) {
    // A missing object is an answer, not a failed request.
    onRequest(op, err instanceof ObjectNotFoundError ? 'ok' : 'error', (performance.now() - t0) / 1000);
    throw err;
  }
}
