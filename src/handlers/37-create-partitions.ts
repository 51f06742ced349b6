// CreatePartitions (key 37), versions 0-3.
// Grows a topic to `count` partitions; shrinking or keeping the count is INVALID_PARTITIONS, as in
// Kafka. Assignments, when given, must list one replica set per new partition and name existing
// brokers once each (see replica-assignment.ts); they decide nothing here because the durable
// copy lives in object storage. validateOnly runs the checks and changes nothing. A topic named
// twice in one request is INVALID_REQUEST. New partitions start empty at offset 0; existing
// keys hash to different partitions afterwards, exactly as in Kafka.
import {
  CreatePartitionsRequestMessage,
  CreatePartitionsResponseMessage,
  createCreatePartitionsResponse,
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
} from '../protocol/generated/index.js';
import type { CreatePartitionsTopic } from '../protocol/generated/CreatePartitionsRequest.js';
import type { CreatePartitionsTopicResult } from '../protocol/generated/CreatePartitionsResponse.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { MAX_PARTITIONS } from '../log/topic-catalog.js';
import type { BrokerContext } from './context.js';
import { replicaListProblem } from './replica-assignment.js';
import { defineHandler } from './types.js';

export function createPartitionsHandler(b: BrokerContext) {
  return defineHandler<CreatePartitionsRequest, CreatePartitionsResponse>({
    request: CreatePartitionsRequestMessage,
    response: CreatePartitionsResponseMessage,
    minVersion: 0,
    maxVersion: 3,
    async handle(req) {
      const counts = new Map<string, number>();
      for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      const results: CreatePartitionsTopicResult[] = [];
      const answered = new Set<string>();
      for (const t of req.topics) {
        if (answered.has(t.name)) continue;
        answered.add(t.name);
        if (counts.get(t.name)! > 1) {
          results.push(result(t.name, ErrorCode.INVALID_REQUEST, `topic '${t.name}' appears more than once in the request`));
          continue;
        }
        results.push(await growOne(b, t, req.validateOnly));
      }
      return { ...createCreatePartitionsResponse(), results };
    },
    errorResponse(req, errorCode, message) {
      const names = [...new Set((req?.topics ?? []).map((t) => t.name))];
      return { ...createCreatePartitionsResponse(), results: names.map((n) => result(n, errorCode, message)) };
    },
  });
}

async function growOne(b: BrokerContext, t: CreatePartitionsTopic, validateOnly: boolean): Promise<CreatePartitionsTopicResult> {
  const topic = await b.topics.get(t.name);
  if (!topic) return result(t.name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${t.name}' does not exist`);
  const current = topic.partitions;
  if (t.count === current) {
    return result(t.name, ErrorCode.INVALID_PARTITIONS, `topic '${t.name}' already has ${current} partition(s); ask for more to grow it`);
  }
  if (t.count < current) {
    return result(
      t.name,
      ErrorCode.INVALID_PARTITIONS,
      `topic '${t.name}' has ${current} partition(s); ${t.count} would shrink it, and partitions can only be added`,
    );
  }
  if (t.count > MAX_PARTITIONS) {
    return result(t.name, ErrorCode.INVALID_PARTITIONS, `number of partitions must be at most ${MAX_PARTITIONS}, got ${t.count}`);
  }
  if (t.assignments !== null) {
    const added = t.count - current;
    if (t.assignments.length !== added) {
      return result(
        t.name,
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `${added} partition(s) would be added, but ${t.assignments.length} assignment(s) were given; give one per new partition`,
      );
    }
    for (let i = 0; i < t.assignments.length; i++) {
      const problem = replicaListProblem(b, current + i, t.assignments[i].brokerIds);
      if (problem) return result(t.name, ErrorCode.INVALID_REPLICA_ASSIGNMENT, problem);
    }
  }
  if (validateOnly) return result(t.name, ErrorCode.NONE, null);
  try {
    await b.topics.addPartitions(topic.id, t.count);
  } catch (err) {
    if (err instanceof KafkaError) return result(t.name, err.code, err.message);
    throw err;
  }
  return result(t.name, ErrorCode.NONE, null);
}

function result(name: string, errorCode: number, errorMessage: string | null): CreatePartitionsTopicResult {
  return { name, errorCode, errorMessage };
}
