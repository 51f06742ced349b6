// Options every broker-facing command shares, and the value parsers that turn bad input into a
// commander InvalidArgumentError naming the flag (exit code 2 through the program's exitOverride).
import { Command, InvalidArgumentError, Option } from 'commander';
import { KafkaClient } from '../client/client.js';

export const DEFAULT_BOOTSTRAP = 'localhost:9092';

export interface ConnectionFlags {
  bootstrapServer: string;
  timeoutMs: number;
  json?: boolean;
}

/** Adds --bootstrap-server, --timeout-ms and --json. */
export function brokerCommand(cmd: Command): Command {
  return cmd
    .addOption(new Option('--bootstrap-server <host:port>', 'broker to connect to (comma-separated list allowed)').env('STREAMHOUSE_BOOTSTRAP_SERVER').default(DEFAULT_BOOTSTRAP))
    .addOption(new Option('--timeout-ms <ms>', 'request timeout').argParser(intArg('--timeout-ms', 1)).default(30_000))
    .option('--json', 'print JSON for scripts instead of tables');
}

export async function withClient<T>(flags: ConnectionFlags, fn: (client: KafkaClient) => Promise<T>): Promise<T> {
  const client = new KafkaClient({ bootstrap: flags.bootstrapServer, requestTimeoutMs: flags.timeoutMs, clientId: 'streamhouse-cli' });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.close();
  }
}

export function intArg(flag: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) throw new InvalidArgumentError(`${flag}: expected a whole number, got '${raw}'`);
    const n = Number(raw);
    if (n < min || n > max) throw new InvalidArgumentError(`${flag}: must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export function bigintArg(flag: string) {
  return (raw: string): bigint => {
    if (!/^-?\d+$/.test(raw.trim())) throw new InvalidArgumentError(`${flag}: expected a whole number, got '${raw}'`);
    return BigInt(raw);
  };
}

export function choiceArg<T extends string>(flag: string, choices: readonly T[]) {
  return (raw: string): T => {
    if (!(choices as readonly string[]).includes(raw)) throw new InvalidArgumentError(`${flag}: expected one of ${choices.join(', ')}; got '${raw}'`);
    return raw as T;
  };
}

/** Collects repeated `key=value` flags into a record. */
export function keyValueArg(flag: string) {
  return (raw: string, prev: Record<string, string> = {}): Record<string, string> => {
    const i = raw.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`${flag}: expected key=value, got '${raw}'`);
    return { ...prev, [raw.slice(0, i)]: raw.slice(i + 1) };
  };
}

/** Collects repeated flags into a list. */
export function listArg(raw: string, prev: string[] = []): string[] {
  return [...prev, raw];
}

/** Milliseconds since the epoch from a number or an ISO-8601 date. */
export function timestampArg(flag: string) {
  return (raw: string): bigint => {
    if (/^\d+$/.test(raw)) return BigInt(raw);
    const t = Date.parse(raw);
    if (Number.isNaN(t)) throw new InvalidArgumentError(`${flag}: expected epoch milliseconds or an ISO-8601 date such as 2024-05-01T12:00:00Z, got '${raw}'`);
    return BigInt(t);
  };
}
