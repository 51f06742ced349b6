// Typed client errors, so the CLI can map each kind to an exit code and a message that says
// what to do next.
import { errorInfo, errorName } from '../protocol/errors.js';

/** Base class: every error the client throws on purpose. */
export class ClientError extends Error {
  override name = 'ClientError';
}

/** The broker cannot be reached, or the connection broke. */
export class ConnectionError extends ClientError {
  override name = 'ConnectionError';
}

export class RequestTimeoutError extends ClientError {
  override name = 'RequestTimeoutError';
}

/** The broker does not list an API (or version range) this operation needs. */
export class UnsupportedApiError extends ClientError {
  override name = 'UnsupportedApiError';
}

/** A Kafka error code in a response, with the resource it concerns. */
export class BrokerError extends ClientError {
  override name = 'BrokerError';
  constructor(
    readonly code: number,
    readonly resource: string,
    brokerMessage?: string | null,
  ) {
    super(`${resource}: ${errorName(code)}${brokerMessage ? ` (${brokerMessage})` : errorInfo(code)?.message ? ` (${errorInfo(code)!.message})` : ''}`);
  }

  get retriable(): boolean {
    return errorInfo(this.code)?.retriable ?? false;
  }
}

/** Throws a BrokerError unless `code` is NONE (0). */
export function check(code: number, resource: string, message?: string | null): void {
  if (code !== 0) throw new BrokerError(code, resource, message);
}
