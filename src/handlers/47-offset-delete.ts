// OffsetDelete (key 47), version 0.
// Deletes a group's committed offsets for some partitions. Refused per partition with
// GROUP_SUBSCRIBED_TO_TOPIC while members of the group consume the topic; a non-empty group of
// another protocol type is NON_EMPTY_GROUP; an unknown group GROUP_ID_NOT_FOUND.
import {
  OffsetDeleteRequestMessage,
  OffsetDeleteResponseMessage,
  createOffsetDeleteResponse,
  type OffsetDeleteRequest,
  type OffsetDeleteResponse,
} from '../protocol/generated/index.js';
import { groupCoordinator, type BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function offsetDeleteHandler(b: BrokerContext) {
  return defineHandler<OffsetDeleteRequest, OffsetDeleteResponse>({
    request: OffsetDeleteRequestMessage,
    response: OffsetDeleteResponseMessage,
    minVersion: 0,
    maxVersion: 0,
    async handle(req) {
      const r = await groupCoordinator(b).deleteOffsets(
        req.groupId,
        req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionIndex) })),
      );
      return { ...createOffsetDeleteResponse(), errorCode: r.errorCode, topics: r.topics };
    },
  });
}
