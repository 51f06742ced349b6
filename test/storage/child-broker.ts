// A StreamHouse broker as a child process (node dist/src/cli.js serve) on a fixed port and data
// directory, so tests can signal it (SIGTERM, SIGKILL) and restart it on the same data.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');

export interface ChildBroker {
  proc: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Everything the broker printed so far (pino JSON lines). */
  output(): string;
  /** SIGKILL if still running, then waits for the exit. */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startChildBroker(opts: { dataDir: string; port: number; profile: string; extraArgs?: string[] }): Promise<ChildBroker> {
  const proc = spawn(
    process.execPath,
    [CLI, 'serve', '--data-dir', opts.dataDir, '--host', '127.0.0.1', '--kafka-port', String(opts.port), '--advertised-host', '127.0.0.1',
      '--http-port', '0', '--registry-port', '0', '--profile', opts.profile, '--log-level', 'info', ...(opts.extraArgs ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start in 15 s:\n${out}`)), 15_000);
    proc.stdout!.on('data', () => {
      if (out.includes('StreamHouse agent started')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before starting:\n${out}`));
    });
  });
  return {
    proc,
    exited,
    output: () => out,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}
