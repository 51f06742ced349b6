// From one request frame to one response frame: decode the header, find the handler, decode the
// body, run it, encode the answer. Pure of sockets: the connection feeds frames in and writes
// what comes back, which keeps this testable and keeps framing out of the handlers.
import { Reader, Writer } from '../protocol/primitives.js';
import { ErrorCode, KafkaError, errorName } from '../protocol/errors.js';
import type { HandlerRegistry } from '../handlers/registry.js';
import type { Handler, RequestContext } from '../handlers/types.js';
import type { Logger } from '../observability/logger.js';

export const API_VERSIONS_KEY = 18;

/** Byte strings from this size on go to the socket by reference; smaller ones are cheaper to copy. */
const REFERENCE_FROM_BYTES = 16 * 1024;

/**
 * A response frame: one buffer, or buffers to write in order when large byte strings (Fetch
 * record batches) were referenced rather than copied into it.
 */
export type ResponseFrame = Buffer | Buffer[];

/** The request is unusable and the connection must close (Kafka does the same). */
export class CloseConnection extends Error {}

export interface DispatchHooks {
  /** Called once per answered or failed request, for metrics. */
  onRequest?(apiKey: number, apiVersion: number, seconds: number, errored: boolean): void;
}

export interface ConnectionInfo {
  clientHost: string;
  signal: AbortSignal;
}

export class Dispatcher {
  constructor(
    private readonly registry: HandlerRegistry,
    private readonly log: Logger,
    private readonly hooks: DispatchHooks = {},
  ) {}

  /**
   * Handles one frame. Resolves to the response frame (size prefix included), or null when no
   * response is due. Throws CloseConnection when the frame cannot be answered.
   */
  async dispatch(frame: Buffer, conn: ConnectionInfo): Promise<ResponseFrame | null> {
    const started = process.hrtime.bigint();
    const r = new Reader(frame);
    const apiKey = r.int16();
    const apiVersion = r.int16();
    const correlationId = r.int32();
    if (r.error) throw new CloseConnection(`request header truncated (${frame.length} bytes)`);

    const handler = this.registry.get(apiKey);
    if (!handler) throw new CloseConnection(`unknown or unsupported API key ${apiKey}`);

    // A client opens with its newest ApiVersions; one we do not know is answered in the v0 layout
    // with UNSUPPORTED_VERSION and our ranges, and the client retries with a version we list.
    if (apiKey === API_VERSIONS_KEY && apiVersion > handler.maxVersion) {
      const body = handler.errorResponse!(undefined, ErrorCode.UNSUPPORTED_VERSION, 'unsupported version');
      return this.encode(handler, 0, correlationId, body);
    }

    const spec = handler.request.validVersions;
    if (apiVersion < spec.min || apiVersion > spec.max) {
      throw new CloseConnection(`${handler.request.name} v${apiVersion} is not a version of this API`);
    }
    const flexible = isFlexible(handler, apiVersion);
    const clientId = r.nullableString();
    if (flexible) r.taggedFields();
    const request = handler.request.decode(r, apiVersion);
    if (r.error) throw new CloseConnection(`malformed ${handler.request.name} v${apiVersion}: ${r.error}`);

    const log = this.log.child({ api: handler.request.name, v: apiVersion, correlationId, clientId });
    const ctx: RequestContext = {
      apiKey,
      apiVersion,
      correlationId,
      clientId,
      clientHost: conn.clientHost,
      signal: conn.signal,
      log,
    };
    let response: unknown;
    let errored = false;
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      response = this.errorResponse(handler, request, ErrorCode.UNSUPPORTED_VERSION, `v${apiVersion} is not served`);
      errored = true;
    } else {
      try {
        response = await handler.handle(request, ctx);
      } catch (err) {
        errored = true;
        if (err instanceof KafkaError) {
          log.debug({ err: err.message, code: errorName(err.code) }, 'request failed');
          response = this.errorResponse(handler, request, err.code, err.message);
        } else {
          log.error({ err }, 'unexpected error while handling request');
          response = this.errorResponse(handler, request, ErrorCode.UNKNOWN_SERVER_ERROR, 'internal error');
        }
      }
    }
    if (log.isLevelEnabled('debug')) log.debug({ errored }, 'request');
    this.hooks.onRequest?.(apiKey, apiVersion, Number(process.hrtime.bigint() - started) / 1e9, errored);
    if (response === null) return null;
    return this.encode(handler, apiVersion, correlationId, response);
  }

  private errorResponse(handler: Handler, request: unknown, code: number, message: string): unknown {
    if (handler.errorResponse) return handler.errorResponse(request, code, message);
    const response = handler.response.create() as Record<string, unknown>;
    if (!('errorCode' in response)) {
      throw new CloseConnection(`${handler.request.name} failed with ${errorName(code)} and has no error field`);
    }
    response.errorCode = code;
    if ('errorMessage' in response) response.errorMessage = message;
    return response;
  }

  private encode(handler: Handler, version: number, correlationId: number, body: unknown): ResponseFrame {
    const w = new Writer(1024, { referenceFrom: REFERENCE_FROM_BYTES });
    const size = w.markSize();
    w.int32(correlationId);
    // ApiVersions answers always use response header v0 so any client can read them.
    if (handler.request.apiKey !== API_VERSIONS_KEY && isFlexible(handler, version)) w.uvarint(0);
    handler.response.encode(w, body, version);
    w.fillSize(size);
    const chunks = w.finishChunks();
    return chunks.length === 1 ? chunks[0] : chunks;
  }
}

function isFlexible(handler: Handler, version: number): boolean {
  const f = handler.request.flexibleVersions;
  return f !== null && version >= f.min && version <= f.max;
}
