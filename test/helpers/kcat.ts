// kcat (librdkafka's command-line client; Debian 12's kcat 1.7.1 bundles librdkafka 2.0.2) for
// tests. A missing kcat fails the test with the install command, never skips it.

import { expectSuccess } from './kafka-tools.js';
import { runProcess, type RunResult } from './external-process.js';

export type { RunResult } from './external-process.js';

export const INSTALL_KCAT = 'Install it with `apt-get install -y kcat` (.ci/run does), or set KCAT to its path.';

export interface KcatOptions {
  timeoutMs: number;
  input?: string | Buffer;
}

/** Runs `kcat args...` ($KCAT or kcat on PATH). Rejects with MissingToolError when kcat is not installed. */
export function runKcat(args: readonly string[], opts: KcatOptions): Promise<RunResult> {
  return runProcess(process.env.KCAT ?? 'kcat', args, { ...opts, missingHint: INSTALL_KCAT });
}

export interface KcatProduceOptions {
  timeoutMs?: number;
  partition?: number;
  /** Each line is `key<sep>value` (kcat -K). */
  keySeparator?: string;
  /** librdkafka properties, passed as -X k=v (for example compression.codec=zstd, enable.idempotence=true). */
  props?: Record<string, string>;
}

/** Produces one message per line (kcat -P), waiting for delivery; throws with kcat's output on failure. */
export async function kcatProduce(bootstrap: string, topic: string, lines: readonly string[], opts: KcatProduceOptions = {}): Promise<RunResult> {
  const args = ['-b', bootstrap, '-t', topic, '-P'];
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  if (opts.keySeparator !== undefined) args.push('-K', opts.keySeparator);
  for (const [k, v] of Object.entries(opts.props ?? {})) args.push('-X', `${k}=${v}`);
  const input = lines.length ? lines.join('\n') + '\n' : '';
  return expectSuccess(await runKcat(args, { timeoutMs: opts.timeoutMs ?? 30_000, input }), 'kcat -P');
}

export interface KcatConsumeOptions {
  /** Exactly this many messages are read (kcat -c); fewer is an error. */
  count: number;
  timeoutMs?: number;
  partition?: number;
  /** kcat -o: beginning (default), end, stored, an offset, or s@<ms timestamp>. */
  offset?: string;
  /** kcat -f format string; the default prints each value on its own line. */
  format?: string;
  props?: Record<string, string>;
}

/** Reads `count` messages (kcat -C) and returns one string per message: the value, or `format` applied. */
export async function kcatConsume(bootstrap: string, topic: string, opts: KcatConsumeOptions): Promise<string[]> {
  const args = ['-b', bootstrap, '-t', topic, '-C', '-o', opts.offset ?? 'beginning', '-c', String(opts.count), '-f', opts.format ?? '%s\\n'];
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  for (const [k, v] of Object.entries(opts.props ?? {})) args.push('-X', `${k}=${v}`);
  const r = expectSuccess(await runKcat(args, { timeoutMs: opts.timeoutMs ?? 30_000 }), 'kcat -C');
  const out = r.stdout.endsWith('\n') ? r.stdout.slice(0, -1) : r.stdout;
  return opts.count === 0 ? [] : out.split('\n');
}

export interface KcatMetadata {
  originating_broker: { id: number; name: string };
  query: { topic: string };
  controllerid?: number;
  brokers: { id: number; name: string }[];
  topics: { topic: string; error?: string; partitions: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[]; error?: string }[] }[];
}

/** Cluster metadata as kcat sees it (kcat -L -J), optionally for one topic. */
export async function kcatMetadata(bootstrap: string, opts: { topic?: string; timeoutMs?: number } = {}): Promise<KcatMetadata> {
  const args = ['-b', bootstrap, '-L', '-J'];
  if (opts.topic) args.push('-t', opts.topic);
  const r = expectSuccess(await runKcat(args, { timeoutMs: opts.timeoutMs ?? 30_000 }), 'kcat -L');
  return JSON.parse(r.stdout) as KcatMetadata;
}
