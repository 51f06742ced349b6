// Failures of record-batch handling, named by the Kafka error a client would get for them.
//
// Validation on the produce hot path returns a `RecordsFault` value (no exception, no stack
// capture); slower paths that decode records or decompress throw a `RecordsError` carrying the
// same fields, so a handler can map either to a partition error code the same way.

/** Kafka error names (and codes) that record handling can produce. */
export const RECORDS_ERROR_CODES = {
  CORRUPT_MESSAGE: 2,
  MESSAGE_TOO_LARGE: 10,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
} as const;

export type RecordsErrorName = keyof typeof RECORDS_ERROR_CODES;

export interface RecordsFault {
  readonly ok: false;
  /** The Kafka error name, e.g. CORRUPT_MESSAGE. */
  readonly error: RecordsErrorName;
  /** The Kafka error code of `error`. */
  readonly code: number;
  /** Why, in words a client operator can act on. */
  readonly message: string;
}

export interface RecordsOk {
  readonly ok: true;
}

export type RecordsCheck = RecordsOk | RecordsFault;

/** Shared success value, so a passing check allocates nothing. */
export const RECORDS_OK: RecordsOk = Object.freeze({ ok: true });

export function fault(error: RecordsErrorName, message: string): RecordsFault {
  return { ok: false, error, code: RECORDS_ERROR_CODES[error], message };
}

export class RecordsError extends Error {
  readonly code: number;

  constructor(
    readonly errorName: RecordsErrorName,
    message: string,
  ) {
    super(message);
    this.name = 'RecordsError';
    this.code = RECORDS_ERROR_CODES[errorName];
  }

  static from(f: RecordsFault): RecordsError {
    return new RecordsError(f.error, f.message);
  }

  toFault(): RecordsFault {
    return fault(this.errorName, this.message);
  }
}

/**
 * Decompressed output would exceed the caller's cap. Reported as MESSAGE_TOO_LARGE: the batch
 * is larger than this broker accepts once inflated (a compression bomb looks exactly like this).
 */
export class DecompressionLimitError extends RecordsError {
  constructor(
    readonly codec: string,
    readonly limit: number,
    detail: string,
  ) {
    super(
      'MESSAGE_TOO_LARGE',
      `${codec} records inflate past the ${limit}-byte decompression cap (${detail}); ` +
        'send smaller batches or raise the cap if this data is legitimate',
    );
    this.name = 'DecompressionLimitError';
  }
}
