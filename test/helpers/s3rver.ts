// Starts a real S3-compatible server (s3rver 3.7) on 127.0.0.1 with an ephemeral port and a
// throwaway directory, for tests of the `s3:` object store and anything built on it.
//
//   const s3 = await startS3rver();
//   const store = new S3Store({ bucket: s3.bucket, endpoint: s3.endpoint, prefix: 'x' });
//   ...
//   await s3.stop();
//
// Why a child process: s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node's
// OpenSSL 3 offers only with --openssl-legacy-provider; in-process, every listing of more than one
// page fails with InternalError. Its logs stay in the child (stderr is shown only if it fails to start).
//
// s3rver checks SigV4 signatures against its built-in key pair S3RVER/S3RVER, so this sets
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY to those (and AWS_REGION to us-east-1) for the SDK.
// Known s3rver quirk: DeleteObjects and concurrent deletes race on its directory cleanup and can
// answer 500 InternalError; clients with retries recover.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface S3rverHandle {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  bucket: string;
  /** Directory holding the server's data. */
  directory: string;
  stop(): Promise<void>;
}

export const S3RVER_ACCESS_KEY = 'S3RVER';
export const S3RVER_SECRET_KEY = 'S3RVER';

/** Points the AWS SDK's default credential chain at s3rver's fixed key pair. */
export function useS3rverCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = S3RVER_ACCESS_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_SECRET_KEY;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_REGION ??= 'us-east-1';
}

// Runs in the child (CommonJS): start s3rver, print the port, exit when the parent goes away.
const CHILD = `
const S3rver = require(process.env.S3RVER_MODULE);
const server = new S3rver({
  address: '127.0.0.1', port: 0, silent: true, directory: process.env.S3RVER_DIR,
  vhostBuckets: false, configureBuckets: [{ name: process.env.S3RVER_BUCKET }],
});
server.on('error', () => {});
server.run().then(
  (addr) => process.stdout.write(JSON.stringify({ port: addr.port }) + '\\n'),
  (err) => { console.error(err); process.exit(1); },
);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
`;

export async function startS3rver(opts: { bucket?: string } = {}): Promise<S3rverHandle> {
  useS3rverCredentials();
  const bucket = opts.bucket ?? 'streamhouse-test';
  const directory = await mkdtemp(join(tmpdir(), 'streamhouse-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--input-type=commonjs', '-e', CHILD], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      S3RVER_MODULE: createRequire(import.meta.url).resolve('s3rver'),
      S3RVER_DIR: directory,
      S3RVER_BUCKET: bucket,
    },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 8192) stderr += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('s3rver did not start within 15 s')), 15_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`s3rver exited with code ${code} before listening: ${stderr.trim()}`));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  // A test that forgets stop() must not keep the runner alive; the child exits when stdin closes.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();

  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    bucket,
    directory,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        // Hold the event loop until the exit arrives: the child was unref'd at start.
        child.ref();
        child.kill('SIGTERM');
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
