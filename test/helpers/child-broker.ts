// A StreamHouse broker as a child process (node dist/src/cli.js serve), for tests that signal it
// (SIGTERM, SIGKILL) and restart it on the same data directory, and for benchmarks that measure it
// from outside (peak RSS, --cpu-prof). It is ready once its start line, which carries the bound
// Kafka and HTTP addresses, has been printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.js');

export interface ChildBrokerOptions {
  dataDir: string;
  /** 0 (the default) lets the kernel pick; the bound port is read from the start line. */
  port?: number;
  /** Durability profile (--profile); the CLI's default when left out. */
  profile?: string;
  /** More `serve` flags, after the standard ones. */
  extraArgs?: string[];
  /** Write a V8 CPU profile (--cpu-prof) into this directory when the broker exits. */
  cpuProfDir?: string;
  /** The child's environment; this process's when left out. */
  env?: NodeJS.ProcessEnv;
  /** 'pipe' (the default) keeps stderr in output(); 'inherit' passes it through to ours. */
  stderr?: 'pipe' | 'inherit';
  startTimeoutMs?: number;
}

export interface ChildBroker {
  proc: ChildProcess;
  /** The bound Kafka and HTTP ports, from the start line. */
  port: number;
  httpPort: number;
  bootstrap: string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Everything the broker printed so far (pino JSON lines). */
  output(): string;
  /** The broker's peak resident set (VmHWM), sampled every 200 ms while it runs. */
  peakRssBytes(): number;
  /** SIGKILL if still running, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a graceful stop) if still running, then waits for the exit; resolves with its code. */
  stop(): Promise<number | null>;
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

/** A byte count from /proc/<pid>/status (Linux); 0 when the process is gone or the field is missing. */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export async function startChildBroker(opts: ChildBrokerOptions): Promise<ChildBroker> {
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
  const proc = spawn(
    process.execPath,
    [...nodeArgs, CLI, 'serve', '--data-dir', opts.dataDir, '--host', '127.0.0.1', '--kafka-port', String(opts.port ?? 0), '--advertised-host', '127.0.0.1',
      '--http-port', '0', '--registry-port', '0', ...(opts.profile ? ['--profile', opts.profile] : []), '--log-level', 'info', ...(opts.extraArgs ?? [])],
    { stdio: ['ignore', 'pipe', opts.stderr ?? 'pipe'], env: opts.env },
  );
  let out = '';
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  const ports = await new Promise<{ kafka: number; http: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start in ${timeoutMs / 1000} s:\n${out.slice(-4000)}`)), timeoutMs);
    const onData = () => {
      const k = /"kafka":"[^"]*:(\d+)"/.exec(out);
      const h = /"http":"[^"]*:(\d+)"/.exec(out);
      if (k && h) {
        clearTimeout(timer);
        proc.stdout!.off('data', onData);
        resolve({ kafka: Number(k[1]), http: Number(h[1]) });
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before starting:\n${out.slice(-4000)}`));
    });
  });
  // VmHWM is the kernel's own peak, but it is gone with the process: keep the last value seen.
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, procStatusBytes(proc.pid!, 'VmHWM'))), 200);
  sample.unref();
  void exited.then(() => clearInterval(sample));
  return {
    proc,
    port: ports.kafka,
    httpPort: ports.http,
    bootstrap: `127.0.0.1:${ports.kafka}`,
    exited,
    output: () => out,
    peakRssBytes: () => (running() ? Math.max(peak, procStatusBytes(proc.pid!, 'VmHWM')) : peak),
    async kill() {
      if (running()) proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (running()) proc.kill('SIGTERM');
      return exited;
    },
  };
}
