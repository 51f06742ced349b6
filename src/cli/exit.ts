// Exit codes that mean something, and the one place errors become messages and codes.
//   0  success
//   1  runtime failure: the broker or registry refused, the connection broke, a timeout
//   2  usage error: a bad flag, a missing argument, a value that does not parse
//   3  not found: the topic, partition, group, subject or version does not exist
import { ClientError, BrokerError } from '../client/errors.js';
import { ErrorCode } from '../protocol/errors.js';

export const ExitCode = { OK: 0, FAILURE: 1, USAGE: 2, NOT_FOUND: 3 } as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  runtime failure (broker or registry error, connection failure, timeout)
  2  usage error (bad flag, missing argument, invalid value)
  3  not found (topic, partition, group, subject or version does not exist)`;

/** A mistake in how the command was called. */
export class UsageError extends Error {}

/** The thing named does not exist. */
export class NotFoundError extends Error {}

const NOT_FOUND_CODES = new Set<number>([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_ID, ErrorCode.GROUP_ID_NOT_FOUND]);

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return ExitCode.USAGE;
  if (err instanceof NotFoundError) return ExitCode.NOT_FOUND;
  if (err instanceof BrokerError && NOT_FOUND_CODES.has(err.code)) return ExitCode.NOT_FOUND;
  return ExitCode.FAILURE;
}

/** Runs a command action; a failure prints one line on stderr and sets the exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const known = err instanceof ClientError || err instanceof UsageError || err instanceof NotFoundError;
      process.stderr.write(`streamhouse: ${known ? (err as Error).message : String((err as Error)?.stack ?? err)}\n`);
      process.exitCode = exitCodeFor(err);
    }
  };
}
