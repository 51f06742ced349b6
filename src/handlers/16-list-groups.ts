// ListGroups (key 16), versions 0-5.
// Every group this agent coordinates, including "simple" groups that only hold offsets.
// v4 filters by state (case-insensitive, as Kafka), v5 by type ("classic", "consumer").
import {
  ListGroupsRequestMessage,
  ListGroupsResponseMessage,
  createListGroupsResponse,
  type ListGroupsRequest,
  type ListGroupsResponse,
} from '../protocol/generated/index.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function listGroupsHandler(b: BrokerContext) {
  return defineHandler<ListGroupsRequest, ListGroupsResponse>({
    request: ListGroupsRequestMessage,
    response: ListGroupsResponseMessage,
    minVersion: 0,
    maxVersion: 5,
    handle(req, ctx) {
      const v = ctx.apiVersion;
      const groups = groupCoordinator(b).listGroups(v >= 4 ? req.statesFilter : [], v >= 5 ? req.typesFilter : []);
      return { ...createListGroupsResponse(), groups };
    },
  });
}
