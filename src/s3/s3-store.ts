// `s3:` object store on @aws-sdk/client-s3, for AWS S3, MinIO and other S3-compatible servers.
//
// - Credentials come from the SDK's default chain (AWS_ACCESS_KEY_ID/..., profiles, SSO, IMDS).
// - A custom endpoint (MinIO, s3rver) implies path-style addressing: such servers rarely resolve
//   virtual-host bucket names.
// - Every request goes through withRetry (retry.ts); the SDK's own retries are off (maxAttempts 1).
// - Stalled servers cannot hang a caller: connection, time-to-response and socket-idle timeouts are
//   set on the SDK's node HTTP handler, and a timeout counts as retryable.
// - Bodies above `multipartThresholdBytes` are uploaded in parts; a failed upload is aborted so no
//   orphaned parts keep costing storage.

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import {
  ObjectNotFoundError,
  validateKey,
  validatePrefix,
  validateRange,
  type ObjectInfo,
  type ObjectStore,
  type OnRequest,
} from './object-store.js';
import { DEFAULT_RETRY_POLICY, withRetry, type RetryPolicy } from './retry.js';

const MiB = 1024 * 1024;
/** S3's smallest part (all but the last); MinIO enforces the same. */
export const MIN_PART_SIZE = 5 * MiB;
/** S3 caps DeleteObjects at 1000 keys per request and ListObjectsV2 pages at 1000 keys. */
const MAX_BATCH = 1000;

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing '/' ('' for the bucket root). */
  prefix?: string;
  /** Custom endpoint such as http://127.0.0.1:9000 (MinIO). */
  endpoint?: string;
  /** Default: the SDK's chain (AWS_REGION, profile); 'us-east-1' with a custom endpoint if unset. */
  region?: string;
  /** Default: true when `endpoint` is given. */
  forcePathStyle?: boolean;
  /** Total attempts per request, including the first (default 8). */
  maxAttempts?: number;
  /** First retry's maximum delay; doubles each retry (default 100 ms). */
  baseDelayMs?: number;
  /** Cap on the retry delay (default 10 s). */
  maxDelayMs?: number;
  /** TCP connect timeout (default 5 s). */
  connectionTimeoutMs?: number;
  /** From sending the request to the response headers, body upload included (default 60 s). */
  requestTimeoutMs?: number;
  /** Longest silence on the socket, e.g. a stalled body download (default 30 s). */
  socketTimeoutMs?: number;
  /** Bodies larger than this use multipart upload (default 16 MiB). */
  multipartThresholdBytes?: number;
  /** Part size of multipart uploads (default 8 MiB, at least 5 MiB). */
  partSizeBytes?: number;
  /** Parts uploaded at once (default 4). */
  multipartConcurrency?: number;
  /** Keys per DeleteObjects request (default and maximum 1000). */
  deleteBatchSize?: number;
  /** Keys per ListObjectsV2 page (default and maximum 1000). */
  listPageSize?: number;
  /** Connection pool size (default 64). */
  maxSockets?: number;
  onRequest?: OnRequest;
}

interface ResolvedOptions {
  bucket: string;
  prefix: string;
  policy: RetryPolicy;
  multipartThreshold: number;
  partSize: number;
  concurrency: number;
  deleteBatch: number;
  listPage: number;
}

export class S3Store implements ObjectStore {
  readonly client: S3Client;
  private readonly o: ResolvedOptions;
  private readonly onRequest: OnRequest | undefined;

  constructor(opts: S3StoreOptions) {
    if (!opts.bucket) throw new Error('S3 store needs a bucket name, as in s3://bucket/prefix');
    const partSize = opts.partSizeBytes ?? 8 * MiB;
    if (partSize < MIN_PART_SIZE) {
      throw new Error(`S3 multipart part size ${partSize} is below S3's minimum of ${MIN_PART_SIZE} bytes; raise partSizeBytes`);
    }
    this.o = {
      bucket: opts.bucket,
      prefix: (opts.prefix ?? '').replace(/^\/+|\/+$/g, ''),
      policy: {
        maxAttempts: Math.max(1, opts.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts),
        baseDelayMs: opts.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
        maxDelayMs: opts.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
      },
      multipartThreshold: Math.max(opts.multipartThresholdBytes ?? 16 * MiB, partSize),
      partSize,
      concurrency: Math.max(1, opts.multipartConcurrency ?? 4),
      deleteBatch: clamp(opts.deleteBatchSize ?? MAX_BATCH, 1, MAX_BATCH),
      listPage: clamp(opts.listPageSize ?? MAX_BATCH, 1, MAX_BATCH),
    };
    if (this.o.prefix !== '') validatePrefix(this.o.prefix + '/');
    this.onRequest = opts.onRequest;
    const envRegion = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
    this.client = new S3Client({
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle ?? opts.endpoint !== undefined,
      region: opts.region ?? envRegion ?? (opts.endpoint !== undefined ? 'us-east-1' : undefined),
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: opts.connectionTimeoutMs ?? 5_000,
        requestTimeout: opts.requestTimeoutMs ?? 60_000,
        throwOnRequestTimeout: true,
        socketTimeout: opts.socketTimeoutMs ?? 30_000,
        httpAgent: { keepAlive: true, maxSockets: opts.maxSockets ?? 64 },
        httpsAgent: { keepAlive: true, maxSockets: opts.maxSockets ?? 64 },
      },
    });
  }

  /** The bucket key of a store key. */
  private fullKey(key: string): string {
    validateKey(key);
    return this.o.prefix === '' ? key : `${this.o.prefix}/${key}`;
  }

  private get where(): string {
    return `s3://${this.o.bucket}/${this.o.prefix}`;
  }

  private retry<T>(op: string, attempt: () => Promise<T>): Promise<T> {
    return withRetry(op, this.o.policy, { onRequest: this.onRequest, isAnswer: isNotFound }, attempt);
  }

  async put(key: string, body: Buffer): Promise<void> {
    const Key = this.fullKey(key);
    if (body.length > this.o.multipartThreshold) return this.putMultipart(Key, body);
    await this.retry('put', () =>
      this.client.send(new PutObjectCommand({ Bucket: this.o.bucket, Key, Body: body, ContentLength: body.length })),
    );
  }

  async get(key: string): Promise<Buffer> {
    const Key = this.fullKey(key);
    return this.retry('get', async () => {
      try {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key }));
        return await readBody(out);
      } catch (err) {
        throw this.mapNotFound(err, key);
      }
    });
  }

  async getRange(key: string, start: number, endExclusive: number): Promise<Buffer> {
    validateRange(start, endExclusive);
    const Key = this.fullKey(key);
    // HTTP cannot express an empty range; still report a missing key as missing.
    if (start === endExclusive) {
      if ((await this.head(key)) === null) throw new ObjectNotFoundError(key, this.where);
      return Buffer.alloc(0);
    }
    return this.retry('getRange', async () => {
      try {
        const out = await this.client.send(
          new GetObjectCommand({ Bucket: this.o.bucket, Key, Range: `bytes=${start}-${endExclusive - 1}` }),
        );
        const buf = await readBody(out);
        // A server that ignores Range answers 200 with the whole object; cut it here.
        return out.ContentRange === undefined ? buf.subarray(Math.min(start, buf.length), Math.min(endExclusive, buf.length)) : buf;
      } catch (err) {
        if (httpStatus(err) === 416 || errName(err) === 'InvalidRange') return Buffer.alloc(0);
        throw this.mapNotFound(err, key);
      }
    });
  }

  async head(key: string): Promise<{ size: number } | null> {
    const Key = this.fullKey(key);
    try {
      return await this.retry('head', async () => {
        const out = await this.client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key }));
        return { size: out.ContentLength ?? 0 };
      });
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.fullKey(key);
    try {
      await this.retry('delete', () => this.client.send(new DeleteObjectCommand({ Bucket: this.o.bucket, Key })));
    } catch (err) {
      if (!isNotFound(err)) throw err; // S3 answers 204 for a missing key; some servers 404
    }
  }

  /** DeleteObjects in batches of up to 1000 keys (supported by S3, MinIO and s3rver 3.7). */
  async deleteMany(keys: readonly string[]): Promise<void> {
    const full = keys.map((k) => this.fullKey(k));
    for (let i = 0; i < full.length; i += this.o.deleteBatch) {
      const batch = full.slice(i, i + this.o.deleteBatch);
      const out = await this.retry('deleteMany', () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.o.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
      const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new Error(
          `S3 DeleteObjects failed for ${failed.length} of ${batch.length} keys in ${this.where}; first: '${first.Key}' ${first.Code}: ${first.Message}`,
        );
      }
    }
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix); // eagerly, so a bad prefix throws at the call, not at the first next()
    return this.listPages(prefix);
  }

  private async *listPages(prefix: string): AsyncGenerator<ObjectInfo> {
    const base = this.o.prefix === '' ? '' : this.o.prefix + '/';
    let token: string | undefined;
    do {
      const page = await this.retry('list', () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.o.bucket,
            Prefix: base + prefix,
            ContinuationToken: token,
            MaxKeys: this.o.listPage,
          }),
        ),
      );
      for (const c of page.Contents ?? []) {
        if (c.Key === undefined || !c.Key.startsWith(base)) continue;
        yield { key: c.Key.slice(base.length), size: c.Size ?? 0, lastModified: c.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async putMultipart(Key: string, body: Buffer): Promise<void> {
    const Bucket = this.o.bucket;
    const created = await this.retry('put.createMultipart', () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket, Key })),
    );
    const UploadId = created.UploadId;
    if (!UploadId) throw new Error(`S3 CreateMultipartUpload for '${Key}' returned no UploadId`);
    try {
      const count = Math.ceil(body.length / this.o.partSize);
      const parts: CompletedPart[] = new Array(count);
      await runPool(count, this.o.concurrency, async (i) => {
        const chunk = body.subarray(i * this.o.partSize, Math.min(body.length, (i + 1) * this.o.partSize));
        const PartNumber = i + 1;
        const out = await this.retry('put.part', () =>
          this.client.send(
            new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: chunk, ContentLength: chunk.length }),
          ),
        );
        // Checksums the SDK computed for the part must be repeated in Complete on AWS.
        parts[i] = {
          PartNumber,
          ETag: out.ETag,
          ChecksumCRC32: out.ChecksumCRC32,
          ChecksumCRC32C: out.ChecksumCRC32C,
          ChecksumCRC64NVME: out.ChecksumCRC64NVME,
          ChecksumSHA1: out.ChecksumSHA1,
          ChecksumSHA256: out.ChecksumSHA256,
        };
      });
      let attempt = 0;
      await this.retry('put.complete', async () => {
        attempt++;
        try {
          await this.client.send(
            new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
          );
        } catch (err) {
          // An earlier attempt may have completed the upload and only its answer was lost.
          if (attempt > 1 && errName(err) === 'NoSuchUpload' && (await this.headFull(Key))?.size === body.length) return;
          throw err;
        }
      });
    } catch (err) {
      await this.retry('put.abort', () =>
        this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })),
      ).catch(() => {
        // Best effort: a bucket lifecycle rule for incomplete uploads cleans up what is left.
      });
      throw err;
    }
  }

  private async headFull(Key: string): Promise<{ size: number } | null> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key }));
      return { size: out.ContentLength ?? 0 };
    } catch {
      return null;
    }
  }

  private mapNotFound(err: unknown, key: string): unknown {
    return isNotFound(err) ? new ObjectNotFoundError(key, this.where) : err;
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.floor(n)));
}

function errName(err: unknown): string | undefined {
  return (err as { name?: string } | null)?.name;
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  if (err instanceof ObjectNotFoundError) return true;
  const name = errName(err);
  return name === 'NoSuchKey' || name === 'NotFound' || (httpStatus(err) === 404 && name !== 'NoSuchBucket' && name !== 'NoSuchUpload');
}

/** Reads a GetObject body whole; a short body is a retryable error, not silently truncated data. */
async function readBody(out: GetObjectCommandOutput): Promise<Buffer> {
  if (!out.Body) return Buffer.alloc(0);
  const bytes = await out.Body.transformToByteArray();
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (out.ContentLength !== undefined && buf.length !== out.ContentLength) {
    throw Object.assign(new Error(`S3 response body ended after ${buf.length} of ${out.ContentLength} bytes`), {
      code: 'ERR_S3_SHORT_READ',
    });
  }
  return buf;
}

/**
 * Runs task(0..count-1) with at most `limit` in flight. After a failure no new task starts, and the
 * call returns only when the running ones have settled, so an abort cannot race a part upload.
 */
async function runPool(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (firstError === undefined && next < count) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        firstError ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (firstError !== undefined) throw firstError.err;
}
