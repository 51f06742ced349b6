// What a handler is: one Kafka API key, the versions it serves, and a function from a decoded
// request to a response. Registering a handler is what lists it in ApiVersions, so the two
// cannot disagree (the kfake idea).
import type { ApiMessageDescriptor } from '../protocol/generated/runtime.js';
import type { Logger } from '../observability/logger.js';

/** The generated codec of one message (see src/protocol/generated). */
export type MessageCodec<T> = ApiMessageDescriptor<T>;

export interface RequestContext {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly clientHost: string;
  /** Aborted when the client disconnects; long polls and waits should stop early. */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

export interface Handler<Req = any, Res = any> {
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Res>;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Returns the response, or null when the protocol says to answer nothing (acks=0 produce). */
  handle(req: Req, ctx: RequestContext): Res | null | Promise<Res | null>;
  /**
   * The response that reports `errorCode` for every part of `req`. Used for unexpected exceptions
   * and for versions the codec knows but this handler does not serve. Optional: without it the
   * generic fallback sets every `errorCode` field it can find.
   */
  errorResponse?(req: Req, errorCode: number, message: string): Res;
}

/** Identity helper that keeps the request and response types tied together. */
export function defineHandler<Req, Res>(h: Handler<Req, Res>): Handler<Req, Res> {
  return h;
}
