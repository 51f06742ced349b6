// Runs the external programs that tests drive StreamHouse with (Kafka's Java tools, kcat, a
// python confluent-kafka driver): one place for timeouts, stdin, output capture and the
// "tool is missing" error, so every client helper fails the same, explained way.
//
// A missing tool is an error that says how to install it, never a skip: DESIGN.md wants a test
// that needs a missing tool to fail in CI.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RunOptions {
  /** The process is terminated (TERM, then KILL 2 s later) once this has passed. */
  timeoutMs: number;
  /** Written to stdin, which is then closed. Without it stdin is closed at once. */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface RunResult {
  /** Exit code, or null when the process died of a signal (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the timeout ended the process. */
  timedOut: boolean;
  durationMs: number;
}

/** A required external program (or its module, jars...) is not installed; the message says how to get it. */
export class MissingToolError extends Error {
  override name = 'MissingToolError';
}

let cachedRoot: string | undefined;

/** The project root (the directory of StreamHouse's package.json), whatever the cwd and whether run from src or dist. */
export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'streamhouse') {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no StreamHouse package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /**
   * Resolves with the next stdout line (without newline) that matches; rejects on timeout or exit.
   * Lines are consumed: each call looks only past the line the previous call stopped at, so
   * call it sequentially (one waiter at a time).
   */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** Resolves when the process has exited (by itself, by timeout, or after stop()). */
  readonly exited: Promise<RunResult>;
  /** Asks the process to end (TERM, then KILL after graceMs) and waits for it. */
  stop(graceMs?: number): Promise<RunResult>;
}

/**
 * Starts a program and keeps it running until it exits, the timeout passes, or stop() is called.
 * `missingHint` becomes the MissingToolError message when the executable does not exist.
 */
export function startProcess(
  command: string,
  args: readonly string[],
  opts: RunOptions & { missingHint: string },
): RunningProcess {
  const started = Date.now();
  const child = spawn(command, [...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let timedOut = false;
  let scanned = 0;
  const lineWaiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    for (const w of lineWaiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  // The child may exit before reading all of its input; that is its business, not an error here.
  child.stdin!.on('error', () => {});
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();

  let killTimer: NodeJS.Timeout | undefined;
  const terminate = (graceMs: number): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), graceMs);
  };
  const timeout = setTimeout(() => {
    timedOut = true;
    terminate(2000);
  }, opts.timeoutMs);

  const exited = new Promise<RunResult>((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      reject(e.code === 'ENOENT' ? new MissingToolError(`${command} was not found. ${opts.missingHint}`) : e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      for (const w of lineWaiters) w();
      resolve({ code, signal, stdout: out, stderr: err, timedOut, durationMs: Date.now() - started });
    });
  });
  let done = false;
  exited.then(
    () => (done = true),
    () => (done = true),
  );

  const waitForLine = (match: (line: string) => boolean, timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        let nl: number;
        while ((nl = out.indexOf('\n', scanned)) >= 0) {
          const line = out.slice(scanned, nl).replace(/\r$/, '');
          scanned = nl + 1;
          if (match(line)) return finish(() => resolve(line));
        }
        if (done || child.exitCode !== null || child.signalCode !== null) {
          finish(() => reject(new Error(`${command} exited (code ${child.exitCode}) before printing the awaited line; stderr:\n${tail(err)}`)));
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no matching line from ${command} within ${timeoutMs} ms; stdout:\n${tail(out)}\nstderr:\n${tail(err)}`))),
        timeoutMs,
      );
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        lineWaiters.delete(check);
        f();
      };
      lineWaiters.add(check);
      exited.catch((e: unknown) => finish(() => reject(e)));
      check();
    });

  return {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    waitForLine,
    exited,
    stop(graceMs = 5000) {
      terminate(graceMs);
      return exited;
    },
  };
}

/** Runs a program to completion (or until the timeout) and returns what it printed. */
export function runProcess(
  command: string,
  args: readonly string[],
  opts: RunOptions & { missingHint: string },
): Promise<RunResult> {
  return startProcess(command, args, opts).exited;
}

/** The last lines of some output, for error messages. */
export function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}
