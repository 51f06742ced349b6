// ConsumerGroupDescribe (key 69), version 0.
// Describes KIP-848 consumer groups: epochs, assignor, and each member's current and target
// assignment (topic ids with their names). A classic or unknown group is GROUP_ID_NOT_FOUND.
// Authorized operations are all allowed: there are no ACLs yet.
import {
  ConsumerGroupDescribeRequestMessage,
  ConsumerGroupDescribeResponseMessage,
  createConsumerGroupDescribeResponse,
  type ConsumerGroupDescribeRequest,
  type ConsumerGroupDescribeResponse,
} from '../protocol/generated/index.js';
import { toTopicPartitions, type TopicAssignment } from '../coordinator/group/assignment.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { GROUP_OPERATIONS } from './15-describe-groups.js';
import { defineHandler } from './types.js';

const NOT_REQUESTED = -2147483648;

export function consumerGroupDescribeHandler(b: BrokerContext) {
  return defineHandler<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse>({
    request: ConsumerGroupDescribeRequestMessage,
    response: ConsumerGroupDescribeResponseMessage,
    minVersion: 0,
    maxVersion: 0,
    async handle(req) {
      const coordinator = groupCoordinator(b);
      const topics = new Map((await b.topics.list()).map((t) => [t.id, t.name]));
      const named = (a: TopicAssignment) => ({
        topicPartitions: toTopicPartitions(a).map((t) => ({ topicId: t.topicId, topicName: topics.get(t.topicId) ?? '', partitions: t.partitions })),
      });
      return {
        ...createConsumerGroupDescribeResponse(),
        groups: req.groupIds.map((id) => {
          const g = coordinator.describeConsumerGroup(id);
          return {
            ...g,
            members: g.members.map((m) => ({ ...m, assignment: named(m.assignment), targetAssignment: named(m.targetAssignment) })),
            authorizedOperations: req.includeAuthorizedOperations ? GROUP_OPERATIONS : NOT_REQUESTED,
          };
        }),
      };
    },
  });
}
