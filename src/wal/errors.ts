// Typed WAL errors. The produce path maps them to Kafka error codes at the edge; each carries the
// suggested code so the mapping lives next to the reason for it.

/** Kafka error codes the WAL's failures map to (see the Kafka protocol error table). */
export const KAFKA_REQUEST_TIMED_OUT = 7;
export const KAFKA_MESSAGE_TOO_LARGE = 10;
export const KAFKA_STORAGE_ERROR = 56;

export abstract class WalError extends Error {
  abstract readonly retriable: boolean;
  abstract readonly kafkaErrorCode: number;
}

/**
 * A write, fsync, truncate or file creation failed (ENOSPC, EIO, ...). The failed records are not in
 * the WAL (the file was cut back to its last good end), so the client may retry.
 */
export class WalStorageError extends WalError {
  readonly retriable = true;
  readonly kafkaErrorCode = KAFKA_STORAGE_ERROR;
  /** The errno code of the underlying failure, e.g. 'ENOSPC' or 'EIO', when there was one. */
  readonly code: string | undefined;

  constructor(message: string, cause?: unknown) {
    const code = errnoCode(cause);
    // The one storage failure an operator can fix at once: say how, and that writes then resume.
    const hint = code === 'ENOSPC' || code === 'EDQUOT' ? ': the disk holding the WAL is full; free space there or move --data-dir to a larger volume, and produce resumes once there is room' : '';
    super(`${message}${code ? ` (${code})` : ''}${hint}`, { cause });
    this.code = code;
  }
}

/**
 * The WAL stayed above maxBytes for pressureTimeoutMs: segments were not uploaded fast enough.
 * Nothing was written; the client should retry. REQUEST_TIMED_OUT is retriable in every client and
 * does not make them refresh metadata, unlike KAFKA_STORAGE_ERROR.
 */
export class WalFullError extends WalError {
  readonly retriable = true;
  readonly kafkaErrorCode = KAFKA_REQUEST_TIMED_OUT;
}

/** One record is larger than the whole WAL may be; retrying cannot help. */
export class WalRecordTooLargeError extends WalError {
  readonly retriable = false;
  readonly kafkaErrorCode = KAFKA_MESSAGE_TOO_LARGE;
}

/** The WAL was closed (shutdown, or leadership moved away) before the append could be written. */
export class WalClosedError extends WalError {
  readonly retriable = true;
  readonly kafkaErrorCode = KAFKA_STORAGE_ERROR;
}

/**
 * A WAL file was written by an incompatible StreamHouse version. Not corruption, so the files are
 * left alone: opening fails instead of discarding data a newer version may still need.
 */
export class WalFormatError extends Error {}

export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
