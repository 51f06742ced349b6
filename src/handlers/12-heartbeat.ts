// Heartbeat (key 12), versions 0-4.
// Keeps a classic member's session alive. REBALANCE_IN_PROGRESS tells members to rejoin;
// ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID and FENCED_INSTANCE_ID (v3+) follow Kafka's rules. A
// heartbeat while the group completes a rebalance (waiting for SyncGroup) is answered NONE.
import {
  HeartbeatRequestMessage,
  HeartbeatResponseMessage,
  createHeartbeatResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
} from '../protocol/generated/index.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function heartbeatHandler(b: BrokerContext) {
  return defineHandler<HeartbeatRequest, HeartbeatResponse>({
    request: HeartbeatRequestMessage,
    response: HeartbeatResponseMessage,
    minVersion: 0,
    maxVersion: 4,
    handle(req, ctx) {
      const errorCode = groupCoordinator(b).heartbeat({
        groupId: req.groupId,
        generationId: req.generationId,
        memberId: req.memberId,
        groupInstanceId: ctx.apiVersion >= 3 ? req.groupInstanceId : null,
      });
      return { ...createHeartbeatResponse(), errorCode };
    },
  });
}
