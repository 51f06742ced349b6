// DeleteTopics (key 20), versions 0-6.
// v0-5 name topics; v6 names each topic by name or by topic id (not both). Deletion removes the
// topic's rows from the metadata store (topic, partitions, segments, committed offsets), then
// the log layer closes its partition logs and deletes its objects. If deleting objects fails the
// topic is still gone: the objects have no rows any more and are collected as garbage later, so
// the answer is success and the failure is logged. Unknown names answer
// UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID; a topic named twice in one request
// is INVALID_REQUEST. The deletion is complete when the response is sent (no pending-delete
// state), so timeoutMs is not needed.
import {
  DeleteTopicsRequestMessage,
  DeleteTopicsResponseMessage,
  createDeleteTopicsResponse,
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
} from '../protocol/generated/index.js';
import type { DeletableTopicResult } from '../protocol/generated/DeleteTopicsResponse.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ZERO_UUID } from '../protocol/primitives.js';
import type { BrokerContext } from './context.js';
import type { RequestContext } from './types.js';
import { defineHandler } from './types.js';

interface Target {
  name: string | null;
  topicId: string;
}

function targets(req: DeleteTopicsRequest, version: number): Target[] {
  if (version >= 6) return req.topics.map((t) => ({ name: t.name, topicId: t.topicId }));
  return req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
}

const hasName = (t: Target) => t.name !== null;
const hasId = (t: Target) => t.topicId !== ZERO_UUID;

export function deleteTopicsHandler(b: BrokerContext) {
  return defineHandler<DeleteTopicsRequest, DeleteTopicsResponse>({
    request: DeleteTopicsRequestMessage,
    response: DeleteTopicsResponseMessage,
    minVersion: 0,
    maxVersion: 6,
    async handle(req, ctx) {
      const wanted = targets(req, ctx.apiVersion);
      const key = (t: Target) => (hasName(t) ? `n:${t.name}` : `i:${t.topicId}`);
      const counts = new Map<string, number>();
      for (const t of wanted) counts.set(key(t), (counts.get(key(t)) ?? 0) + 1);
      const responses: DeletableTopicResult[] = [];
      const answered = new Set<string>();
      for (const t of wanted) {
        const k = key(t);
        if (answered.has(k)) continue;
        answered.add(k);
        if (counts.get(k)! > 1) {
          responses.push(result(t.name, t.topicId, ErrorCode.INVALID_REQUEST, `topic ${describe(t)} appears more than once in the request`));
          continue;
        }
        responses.push(await deleteOne(b, t, ctx));
      }
      return { ...createDeleteTopicsResponse(), responses };
    },
    errorResponse(req, errorCode, message) {
      const list = req ? [...req.topics.map((t) => ({ name: t.name, topicId: t.topicId })), ...req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }))] : [];
      return { ...createDeleteTopicsResponse(), responses: list.map((t) => result(t.name, t.topicId, errorCode, message)) };
    },
  });
}

async function deleteOne(b: BrokerContext, t: Target, ctx: RequestContext): Promise<DeletableTopicResult> {
  if (hasName(t) && hasId(t)) return result(t.name, t.topicId, ErrorCode.INVALID_REQUEST, 'give a topic name or a topic id, not both');
  if (!hasName(t) && !hasId(t)) return result(null, ZERO_UUID, ErrorCode.INVALID_REQUEST, 'neither a topic name nor a topic id was given');
  const topic = hasName(t) ? await b.topics.get(t.name!) : await b.topics.getById(t.topicId);
  if (!topic) {
    return hasName(t)
      ? result(t.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${t.name}' does not exist`)
      : result(null, t.topicId, ErrorCode.UNKNOWN_TOPIC_ID, `no topic has id ${t.topicId}`);
  }
  try {
    await b.topics.delete(topic.id);
  } catch (err) {
    if (err instanceof KafkaError) return result(topic.name, topic.id, err.code, err.message);
    throw err;
  }
  try {
    await b.logs?.dropTopic(topic);
  } catch (err) {
    ctx.log.warn({ err, topic: topic.name, topicId: topic.id }, 'topic deleted, but deleting its objects failed; they will be collected as garbage');
  }
  return result(topic.name, topic.id, ErrorCode.NONE, null);
}

function describe(t: Target): string {
  return hasName(t) ? `'${t.name}'` : `id ${t.topicId}`;
}

function result(name: string | null, topicId: string, errorCode: number, errorMessage: string | null): DeletableTopicResult {
  return { name, topicId, errorCode, errorMessage };
}
