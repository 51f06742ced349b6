// ConsumerGroupHeartbeat (key 68), versions 0-1: the KIP-848 consumer protocol.
// Joins (epoch 0), heartbeats and leaves (epoch -1; -2 for a static member that will return)
// a consumer group whose assignment the broker computes with a server-side assignor ("uniform",
// the default, or "range"). A member revokes partitions before it is given new ones, and is
// given only partitions no other member still owns. v0 lets the broker choose the member id;
// v1 (KIP-1082) requires the client to send its own, and adds SubscribedTopicRegex
// (matched as a whole-name JavaScript regular expression rather than RE2/J).
import {
  ConsumerGroupHeartbeatRequestMessage,
  ConsumerGroupHeartbeatResponseMessage,
  createConsumerGroupHeartbeatResponse,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponse,
} from '../protocol/generated/index.js';
import { fromTopicPartitions, toTopicPartitions } from '../coordinator/group/assignment.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function consumerGroupHeartbeatHandler(b: BrokerContext) {
  return defineHandler<ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse>({
    request: ConsumerGroupHeartbeatRequestMessage,
    response: ConsumerGroupHeartbeatResponseMessage,
    minVersion: 0,
    maxVersion: 1,
    async handle(req, ctx) {
      const r = await groupCoordinator(b).consumerGroupHeartbeat({
        apiVersion: ctx.apiVersion,
        groupId: req.groupId,
        memberId: req.memberId,
        memberEpoch: req.memberEpoch,
        instanceId: req.instanceId,
        rackId: req.rackId,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        subscribedTopicNames: req.subscribedTopicNames,
        subscribedTopicRegex: ctx.apiVersion >= 1 ? req.subscribedTopicRegex : null,
        serverAssignor: req.serverAssignor,
        ownedTopicPartitions: req.topicPartitions === null ? null : fromTopicPartitions(req.topicPartitions),
        clientId: ctx.clientId ?? '',
        clientHost: ctx.clientHost,
      });
      return {
        ...createConsumerGroupHeartbeatResponse(),
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        memberId: r.memberId,
        memberEpoch: r.memberEpoch,
        heartbeatIntervalMs: r.heartbeatIntervalMs,
        assignment: r.assignment === null ? null : { topicPartitions: toTopicPartitions(r.assignment) },
      };
    },
  });
}
