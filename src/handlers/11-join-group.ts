// JoinGroup (key 11), versions 0-9.
// Classic group membership as Kafka 4.x: a new dynamic member gets MEMBER_ID_REQUIRED with its
// member id first (v4+, KIP-394); the response is held until the rebalance completes (all known
// members rejoined, the rebalance timeout passed, or the initial delay of a new group ended).
// Static members (v5+, group.instance.id) that rejoin take their old place without a
// rebalance; the leader of such a rejoin gets SkipAssignment (v9+). v0 has no rebalance
// timeout: the session timeout stands in for it, as in Kafka.
import {
  JoinGroupRequestMessage,
  JoinGroupResponseMessage,
  createJoinGroupResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
} from '../protocol/generated/index.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function joinGroupHandler(b: BrokerContext) {
  return defineHandler<JoinGroupRequest, JoinGroupResponse>({
    request: JoinGroupRequestMessage,
    response: JoinGroupResponseMessage,
    minVersion: 0,
    maxVersion: 9,
    async handle(req, ctx) {
      const v = ctx.apiVersion;
      const r = await groupCoordinator(b).joinGroup({
        groupId: req.groupId,
        memberId: req.memberId,
        groupInstanceId: v >= 5 ? req.groupInstanceId : null,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: v >= 1 ? req.rebalanceTimeoutMs : -1,
        protocolType: req.protocolType,
        protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        clientId: ctx.clientId ?? '',
        clientHost: ctx.clientHost,
        requireKnownMemberId: v >= 4,
      });
      return {
        ...createJoinGroupResponse(),
        errorCode: r.errorCode,
        generationId: r.generationId,
        protocolType: r.protocolType,
        // Before v7 the protocol name is not nullable.
        protocolName: v >= 7 ? r.protocolName : (r.protocolName ?? ''),
        leader: r.leader,
        skipAssignment: r.skipAssignment,
        memberId: r.memberId,
        members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
      };
    },
    errorResponse(req, errorCode) {
      return { ...createJoinGroupResponse(), errorCode, protocolName: '', memberId: req?.memberId ?? '' };
    },
  });
}
