// DeleteGroups (key 42), versions 0-2.
// Deletes empty groups with their committed offsets; a group with members is NON_EMPTY_GROUP,
// an unknown one GROUP_ID_NOT_FOUND.
import {
  DeleteGroupsRequestMessage,
  DeleteGroupsResponseMessage,
  createDeleteGroupsResponse,
  type DeleteGroupsRequest,
  type DeleteGroupsResponse,
} from '../protocol/generated/index.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function deleteGroupsHandler(b: BrokerContext) {
  return defineHandler<DeleteGroupsRequest, DeleteGroupsResponse>({
    request: DeleteGroupsRequestMessage,
    response: DeleteGroupsResponseMessage,
    minVersion: 0,
    maxVersion: 2,
    async handle(req) {
      const coordinator = groupCoordinator(b);
      const results = [];
      for (const groupId of req.groupsNames) results.push({ groupId, errorCode: await coordinator.deleteGroup(groupId) });
      return { ...createDeleteGroupsResponse(), results };
    },
    errorResponse(req, errorCode) {
      return { ...createDeleteGroupsResponse(), results: (req?.groupsNames ?? []).map((groupId) => ({ groupId, errorCode })) };
    },
  });
}
