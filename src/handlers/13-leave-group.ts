// LeaveGroup (key 13), versions 0-5.
// v0-2 remove one member by member id; v3+ remove a batch, each by member id or by
// group.instance.id (a static member; a member id that does not match the instance's current
// one is FENCED_INSTANCE_ID). Removing members starts a rebalance for the rest.
// The reason (v5) is logged, not stored.
import {
  LeaveGroupRequestMessage,
  LeaveGroupResponseMessage,
  createLeaveGroupResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
} from '../protocol/generated/index.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function leaveGroupHandler(b: BrokerContext) {
  return defineHandler<LeaveGroupRequest, LeaveGroupResponse>({
    request: LeaveGroupRequestMessage,
    response: LeaveGroupResponseMessage,
    minVersion: 0,
    maxVersion: 5,
    handle(req, ctx) {
      const batched = ctx.apiVersion >= 3;
      const leaving = batched
        ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
        : [{ memberId: req.memberId, groupInstanceId: null }];
      for (const m of req.members) if (m.reason) ctx.log.info({ groupId: req.groupId, memberId: m.memberId, reason: m.reason }, 'member leaving group');
      const r = groupCoordinator(b).leaveGroup(req.groupId, leaving);
      if (!batched) return { ...createLeaveGroupResponse(), errorCode: r.errorCode || (r.members[0]?.errorCode ?? 0) };
      return { ...createLeaveGroupResponse(), errorCode: r.errorCode, members: r.members };
    },
  });
}
