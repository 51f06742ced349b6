// Metadata (key 3), versions 0-12.
// Brokers come from the cluster view (one agent, or every live agent in cluster mode); each
// partition reports its leader and leader epoch; replicas and ISR are the leader alone, because
// the durable copy lives in object storage rather than on follower brokers.
// Topics are looked up by name, or by topic id from v10 on. Auto-creation follows
// auto.create.topics.enable and the request's AllowAutoTopicCreation (v4+; always allowed before,
// as in Kafka). Creation is synchronous here, so an auto-created topic is answered at once with
// its partitions instead of Kafka's first LEADER_NOT_AVAILABLE.
// Authorized operations (v8+) report every operation as allowed: there are no ACLs yet.
// v0 treats an empty topic list as "all topics"; v1+ uses null for that.
import {
  MetadataRequestMessage,
  MetadataResponseMessage,
  createMetadataResponse,
  type MetadataRequest,
  type MetadataResponse,
} from '../protocol/generated/index.js';
import type { MetadataResponseTopic } from '../protocol/generated/MetadataResponse.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ZERO_UUID } from '../protocol/primitives.js';
import type { TopicRecord } from '../metadata/types.js';
import { validateTopicName } from '../log/topic-config.js';
import type { BrokerContext } from './context.js';
import { defineHandler } from './types.js';

const bits = (...ops: number[]) => ops.reduce((acc, op) => acc | (1 << op), 0);
// AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
// DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12, CREATE_TOKENS 13, DESCRIBE_TOKENS 14.
export const TOPIC_OPERATIONS = bits(3, 4, 5, 6, 7, 8, 10, 11);
export const CLUSTER_OPERATIONS = bits(5, 7, 8, 9, 10, 11, 12, 13, 14);
const NOT_REQUESTED = -2147483648;

export function metadataHandler(b: BrokerContext) {
  return defineHandler<MetadataRequest, MetadataResponse>({
    request: MetadataRequestMessage,
    response: MetadataResponseMessage,
    minVersion: 0,
    maxVersion: 12,
    async handle(req, ctx) {
      const v = ctx.apiVersion;
      const allTopics = req.topics === null || (v === 0 && req.topics.length === 0);
      const mayCreate = b.config.autoCreateTopics && (v < 4 || req.allowAutoTopicCreation);
      const topics: MetadataResponseTopic[] = [];

      if (allTopics) {
        for (const t of await b.topics.list()) topics.push(describe(b, t, req.includeTopicAuthorizedOperations));
      } else {
        for (const wanted of req.topics!) {
          if (wanted.name === null || wanted.name === '') {
            // v10+ may name a topic by id alone.
            const t = wanted.topicId !== ZERO_UUID ? await b.topics.getById(wanted.topicId) : undefined;
            topics.push(
              t
                ? describe(b, t, req.includeTopicAuthorizedOperations)
                : missing(null, wanted.topicId, ErrorCode.UNKNOWN_TOPIC_ID),
            );
            continue;
          }
          let t = await b.topics.get(wanted.name);
          if (!t && validateTopicName(wanted.name) !== null) {
            topics.push(missing(wanted.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION));
            continue;
          }
          if (!t && mayCreate) {
            try {
              t = await b.topics.getOrCreate(wanted.name, b.config.numPartitions);
            } catch (err) {
              if (!(err instanceof KafkaError)) throw err;
              topics.push(missing(wanted.name, ZERO_UUID, err.code));
              continue;
            }
          }
          topics.push(
            t
              ? describe(b, t, req.includeTopicAuthorizedOperations)
              : missing(wanted.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
          );
        }
      }

      return {
        ...createMetadataResponse(),
        brokers: b.cluster.brokers().map((x) => ({ nodeId: x.nodeId, host: x.host, port: x.port, rack: x.rack })),
        clusterId: b.cluster.clusterId,
        controllerId: b.cluster.controllerId(),
        topics,
        clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : NOT_REQUESTED,
      };
    },
  });
}

function describe(b: BrokerContext, t: TopicRecord, withOps: boolean): MetadataResponseTopic {
  const partitions = [];
  for (let p = 0; p < t.partitions; p++) {
    const { leaderId, leaderEpoch } = b.cluster.leader(t.id, p);
    partitions.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: p,
      leaderId,
      leaderEpoch,
      replicaNodes: [leaderId],
      isrNodes: [leaderId],
      offlineReplicas: [],
    });
  }
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.id,
    isInternal: false,
    partitions,
    topicAuthorizedOperations: withOps ? TOPIC_OPERATIONS : NOT_REQUESTED,
  };
}

function missing(name: string | null, topicId: string, errorCode: number): MetadataResponseTopic {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: NOT_REQUESTED };
}
