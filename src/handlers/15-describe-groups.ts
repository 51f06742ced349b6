// DescribeGroups (key 15), versions 0-5.
// Classic groups: state, protocol type, and members; member metadata, assignment and the
// protocol name only when the group is Stable, as Kafka. An unknown group is described as
// "Dead" with no error (v0-5 have no GROUP_ID_NOT_FOUND answer for it); a KIP-848 consumer group
// is GROUP_ID_NOT_FOUND here (ConsumerGroupDescribe describes it). Authorized operations (v3+)
// are all allowed: there are no ACLs yet.
import {
  DescribeGroupsRequestMessage,
  DescribeGroupsResponseMessage,
  createDescribeGroupsResponse,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
} from '../protocol/generated/index.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

// AclOperation codes READ 3, DELETE 6, DESCRIBE 8: what a group supports.
export const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const NOT_REQUESTED = -2147483648;

export function describeGroupsHandler(b: BrokerContext) {
  return defineHandler<DescribeGroupsRequest, DescribeGroupsResponse>({
    request: DescribeGroupsRequestMessage,
    response: DescribeGroupsResponseMessage,
    minVersion: 0,
    maxVersion: 5,
    handle(req, ctx) {
      const coordinator = groupCoordinator(b);
      const withOps = ctx.apiVersion >= 3 && req.includeAuthorizedOperations;
      return {
        ...createDescribeGroupsResponse(),
        groups: req.groups.map((id) => ({ ...coordinator.describeGroup(id), authorizedOperations: withOps ? GROUP_OPERATIONS : NOT_REQUESTED })),
      };
    },
  });
}
