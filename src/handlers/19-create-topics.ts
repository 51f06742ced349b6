// CreateTopics (key 19), versions 0-7.
// numPartitions -1 takes num.partitions; replicationFactor -1 takes default.replication.factor.
// Replication factors 1 to 3 are accepted: every partition has one durable copy in object
// storage (the WAL bridges the gap until upload), so the factor changes nothing and is only
// echoed in the response; 3 is allowed because many tools ask for it by default. 0, below -1 or
// above 3 is INVALID_REPLICATION_FACTOR. Manual assignments are accepted when they number the
// partitions 0..n-1, name existing brokers once each and give every partition the same count
// (see replica-assignment.ts); with them, numPartitions and replicationFactor must be -1.
// validateOnly runs every check and creates nothing. A name given twice in one request is
// answered once with INVALID_REQUEST. Topic names that differ only in '.' vs '_' collide, as in
// Kafka (their metric names would be equal). v5+ returns the partition count, the factor and
// every effective config; v7 returns the new topic id (the zero id for validateOnly, where no
// topic exists).
import {
  CreateTopicsRequestMessage,
  CreateTopicsResponseMessage,
  createCreateTopicsResponse,
  type CreateTopicsRequest,
  type CreateTopicsResponse,
} from '../protocol/generated/index.js';
import type { CreatableTopic } from '../protocol/generated/CreateTopicsRequest.js';
import type { CreatableTopicResult } from '../protocol/generated/CreateTopicsResponse.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ZERO_UUID } from '../protocol/primitives.js';
import { validateTopicName } from '../log/topic-config.js';
import { MAX_PARTITIONS } from '../log/topic-catalog.js';
import type { BrokerContext } from './context.js';
import { topicConfigEntries } from './config-entries.js';
import { topicConfigProblem } from './config-resources.js';
import { replicaListProblem } from './replica-assignment.js';
import { defineHandler } from './types.js';

/** Largest replication factor accepted (and reported); see the header. */
export const MAX_REPLICATION_FACTOR = 3;

interface Plan {
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

class Refusal {
  constructor(
    readonly errorCode: number,
    readonly errorMessage: string,
  ) {}
}

export function createTopicsHandler(b: BrokerContext) {
  return defineHandler<CreateTopicsRequest, CreateTopicsResponse>({
    request: CreateTopicsRequestMessage,
    response: CreateTopicsResponseMessage,
    minVersion: 0,
    maxVersion: 7,
    async handle(req, ctx) {
      const counts = new Map<string, number>();
      for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      const results: CreatableTopicResult[] = [];
      const answered = new Set<string>();
      for (const t of req.topics) {
        if (answered.has(t.name)) continue;
        answered.add(t.name);
        if (counts.get(t.name)! > 1) {
          results.push(failed(t.name, ErrorCode.INVALID_REQUEST, `topic '${t.name}' appears more than once in the request`));
          continue;
        }
        results.push(await createOne(b, t, req.validateOnly, ctx.apiVersion));
      }
      return { ...createCreateTopicsResponse(), topics: results };
    },
    errorResponse(req, errorCode, message) {
      const names = [...new Set((req?.topics ?? []).map((t) => t.name))];
      return { ...createCreateTopicsResponse(), topics: names.map((n) => failed(n, errorCode, message)) };
    },
  });
}

async function createOne(b: BrokerContext, t: CreatableTopic, validateOnly: boolean, version: number): Promise<CreatableTopicResult> {
  let plan: Plan;
  try {
    plan = await planTopic(b, t);
  } catch (err) {
    if (err instanceof Refusal) return failed(t.name, err.errorCode, err.errorMessage);
    throw err;
  }
  let topicId = ZERO_UUID;
  try {
    const created = await b.topics.create({ name: t.name, partitions: plan.partitions, configs: plan.configs, validateOnly });
    if (!validateOnly) topicId = created.id;
  } catch (err) {
    if (err instanceof KafkaError) return failed(t.name, err.code, err.message);
    throw err;
  }
  return {
    name: t.name,
    topicId,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: plan.partitions,
    replicationFactor: plan.replicationFactor,
    configs:
      version >= 5
        ? topicConfigEntries(b, plan.configs).map((e) => ({
            name: e.name,
            value: e.value,
            readOnly: e.readOnly,
            configSource: e.source,
            isSensitive: e.isSensitive,
          }))
        : [],
  };
}

/** Kafka's checks in Kafka's order; throws Refusal with the code and a message that says why. */
async function planTopic(b: BrokerContext, t: CreatableTopic): Promise<Plan> {
  const nameError = validateTopicName(t.name);
  if (nameError) throw new Refusal(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
  if (await b.topics.get(t.name)) throw new Refusal(ErrorCode.TOPIC_ALREADY_EXISTS, `topic '${t.name}' already exists`);
  const collision = await collidingTopic(b, t.name);
  if (collision) {
    throw new Refusal(
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      `topic '${t.name}' collides with existing topic '${collision}': names that differ only in '.' and '_' are not allowed together`,
    );
  }

  let partitions: number;
  let replicationFactor: number;
  if (t.assignments.length > 0) {
    if (t.numPartitions !== -1) {
      throw new Refusal(ErrorCode.INVALID_REQUEST, 'a manual partition assignment was given, so numPartitions must be -1');
    }
    if (t.replicationFactor !== -1) {
      throw new Refusal(ErrorCode.INVALID_REQUEST, 'a manual partition assignment was given, so replicationFactor must be -1');
    }
    const sorted = [...t.assignments].sort((x, y) => x.partitionIndex - y.partitionIndex);
    sorted.forEach((a, i) => {
      if (a.partitionIndex !== i) {
        throw new Refusal(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'the assigned partitions must be numbered 0, 1, 2, ... without gaps or repeats');
      }
      const problem = replicaListProblem(b, a.partitionIndex, a.brokerIds);
      if (problem) throw new Refusal(ErrorCode.INVALID_REPLICA_ASSIGNMENT, problem);
      if (a.brokerIds.length !== sorted[0].brokerIds.length) {
        throw new Refusal(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'every partition of a manual assignment must have the same number of replicas');
      }
    });
    partitions = sorted.length;
    replicationFactor = sorted[0].brokerIds.length;
  } else {
    replicationFactor = t.replicationFactor === -1 ? b.config.defaultReplicationFactor : t.replicationFactor;
    if (replicationFactor < 1 || replicationFactor > MAX_REPLICATION_FACTOR) {
      throw new Refusal(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `replication factor ${t.replicationFactor} is not accepted: use -1 (the default) or 1 to ${MAX_REPLICATION_FACTOR}; ` +
          'StreamHouse keeps one durable copy in object storage whatever the factor',
      );
    }
    partitions = t.numPartitions === -1 ? b.config.numPartitions : t.numPartitions;
    if (partitions < 1) {
      throw new Refusal(ErrorCode.INVALID_PARTITIONS, `number of partitions must be at least 1 (or -1 for num.partitions), got ${t.numPartitions}`);
    }
  }
  if (partitions > MAX_PARTITIONS) {
    throw new Refusal(ErrorCode.INVALID_PARTITIONS, `number of partitions must be at most ${MAX_PARTITIONS}, got ${partitions}`);
  }

  const configs: Record<string, string> = {};
  for (const c of t.configs) {
    if (Object.hasOwn(configs, c.name)) throw new Refusal(ErrorCode.INVALID_REQUEST, `config '${c.name}' is given more than once`);
    if (c.value === null) throw new Refusal(ErrorCode.INVALID_CONFIG, `config '${c.name}' has a null value; give a value or leave it out`);
    const problem = topicConfigProblem(c.name, c.value);
    if (problem) throw new Refusal(ErrorCode.INVALID_CONFIG, problem);
    configs[c.name] = c.value;
  }
  return { partitions, replicationFactor, configs };
}

async function collidingTopic(b: BrokerContext, name: string): Promise<string | undefined> {
  if (!/[._]/.test(name)) return undefined;
  const key = name.replace(/\./g, '_');
  return (await b.topics.list()).find((t) => t.name !== name && t.name.replace(/\./g, '_') === key)?.name;
}

function failed(name: string, errorCode: number, errorMessage: string): CreatableTopicResult {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode,
    errorMessage,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: -1,
    replicationFactor: -1,
    configs: [],
  };
}
