// FindCoordinator (key 10), versions 0-6.
// Answers the node that coordinates a group id (key type 0) or a transactional id (key type 1).
// v0-3 carry one key; v4+ carry a batch of keys and answer each on its own. The coordinator
// shard of a key is hash(key) mod the shard count; one agent owns every shard today, and the
// cluster layer can place shards by lease later without changing this handler.
// Share-group keys (type 2, v6) are refused with INVALID_REQUEST: there are no share groups.
import {
  FindCoordinatorRequestMessage,
  FindCoordinatorResponseMessage,
  createFindCoordinatorResponse,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
} from '../protocol/generated/index.js';
import type { Coordinator } from '../protocol/generated/FindCoordinatorResponse.js';
import { ErrorCode } from '../protocol/errors.js';
import type { BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function findCoordinatorHandler(b: BrokerContext) {
  const answer = (keyType: number, key: string): Coordinator => {
    const miss = (errorCode: number, errorMessage: string): Coordinator => ({ key, nodeId: -1, host: '', port: -1, errorCode, errorMessage });
    if (!b.groups) return miss(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'no group coordinator runs on this broker');
    const found = b.groups.coordinatorFor(keyType, key);
    if ('errorCode' in found) return miss(found.errorCode, found.message);
    const node = b.cluster.brokers().find((x) => x.nodeId === found.nodeId);
    if (!node) return miss(ErrorCode.COORDINATOR_NOT_AVAILABLE, `coordinator node ${found.nodeId} is not live`);
    return { key, nodeId: node.nodeId, host: node.host, port: node.port, errorCode: ErrorCode.NONE, errorMessage: null };
  };
  return defineHandler<FindCoordinatorRequest, FindCoordinatorResponse>({
    request: FindCoordinatorRequestMessage,
    response: FindCoordinatorResponseMessage,
    minVersion: 0,
    maxVersion: 6,
    handle(req, ctx) {
      const keyType = ctx.apiVersion >= 1 ? req.keyType : 0;
      if (ctx.apiVersion >= 4) {
        return { ...createFindCoordinatorResponse(), coordinators: req.coordinatorKeys.map((k) => answer(keyType, k)) };
      }
      const c = answer(keyType, req.key);
      return {
        ...createFindCoordinatorResponse(),
        errorCode: c.errorCode,
        errorMessage: c.errorMessage,
        nodeId: c.nodeId,
        host: c.host,
        port: c.port,
      };
    },
    errorResponse(req, errorCode, message) {
      return {
        ...createFindCoordinatorResponse(),
        errorCode,
        errorMessage: message,
        nodeId: -1,
        host: '',
        port: -1,
        coordinators: (req?.coordinatorKeys ?? []).map((key) => ({ key, nodeId: -1, host: '', port: -1, errorCode, errorMessage: message })),
      };
    },
  });
}
