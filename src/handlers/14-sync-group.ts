// SyncGroup (key 14), versions 0-5.
// The leader sends every member's assignment; each member's SyncGroup is held until the leader's
// assignment is stored, then answered with its own assignment. In a Stable group a member gets
// its current assignment at once. v5 checks ProtocolType/ProtocolName against the group's.
import {
  SyncGroupRequestMessage,
  SyncGroupResponseMessage,
  createSyncGroupResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '../protocol/generated/index.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function syncGroupHandler(b: BrokerContext) {
  return defineHandler<SyncGroupRequest, SyncGroupResponse>({
    request: SyncGroupRequestMessage,
    response: SyncGroupResponseMessage,
    minVersion: 0,
    maxVersion: 5,
    async handle(req, ctx) {
      const v = ctx.apiVersion;
      const r = await groupCoordinator(b).syncGroup({
        groupId: req.groupId,
        generationId: req.generationId,
        memberId: req.memberId,
        groupInstanceId: v >= 3 ? req.groupInstanceId : null,
        protocolType: v >= 5 ? req.protocolType : null,
        protocolName: v >= 5 ? req.protocolName : null,
        assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
      });
      return { ...createSyncGroupResponse(), errorCode: r.errorCode, protocolType: r.protocolType, protocolName: r.protocolName, assignment: r.assignment };
    },
  });
}
