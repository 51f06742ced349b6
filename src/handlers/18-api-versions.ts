// ApiVersions (key 18), versions 0-4.
// Lists every registered handler with the versions it serves; the list comes from the handler
// registry itself, so it can never claim an API that is not served. A request at a version above
// 4 is answered by the dispatcher in the v0 layout with UNSUPPORTED_VERSION (KIP-511), and the
// client retries with a version from the list. v3+ checks the client software name and version
// as Kafka does (INVALID_REQUEST when they are not of the form [a-zA-Z0-9](-.a-zA-Z0-9)*).
// No features are advertised: StreamHouse has no KRaft feature levels, and claiming e.g.
// transaction.version 2 would switch clients to protocols it does not speak.
import {
  ApiVersionsRequestMessage,
  ApiVersionsResponseMessage,
  createApiVersionsResponse,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
} from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/errors.js';
import type { ApiVersionRange } from './registry.js';
import { defineHandler } from './types.js';

const PRODUCE_API_KEY = 0;
const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export function apiVersionsHandler(versions: () => ApiVersionRange[]) {
  const respond = (errorCode: number): ApiVersionsResponse => ({
    ...createApiVersionsResponse(),
    errorCode,
    // Produce is listed from v0 as Kafka 4.x does (KAFKA-18659): librdkafka < 2.10 turns off gzip,
    // snappy and lz4 unless the range includes v0. v0-2 requests still get UNSUPPORTED_VERSION.
    apiKeys: versions().map((v) => (v.apiKey === PRODUCE_API_KEY ? { ...v, minVersion: 0 } : v)),
  });
  return defineHandler<ApiVersionsRequest | undefined, ApiVersionsResponse>({
    request: ApiVersionsRequestMessage,
    response: ApiVersionsResponseMessage,
    minVersion: 0,
    maxVersion: 4,
    handle(req, ctx) {
      if (ctx.apiVersion >= 3 && req) {
        const ok = SOFTWARE_PATTERN.test(req.clientSoftwareName) && SOFTWARE_PATTERN.test(req.clientSoftwareVersion);
        if (!ok) return respond(ErrorCode.INVALID_REQUEST);
      }
      return respond(ErrorCode.NONE);
    },
    errorResponse: (_req, code) => respond(code),
  });
}
