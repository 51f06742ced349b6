// IncrementalAlterConfigs (key 44), versions 0-1.
// TOPIC: SET (0) sets a value, DELETE (1) returns a config to its default, APPEND (2) and
// SUBTRACT (3) add or remove items of a list config (cleanup.policy), starting from the current
// value or the default, as Kafka does. APPEND/SUBTRACT on a non-list config is INVALID_CONFIG.
// Every operation of a resource is checked before anything changes; one bad entry rejects the
// resource with INVALID_CONFIG naming the key and what it accepts. A null value for SET, APPEND
// or SUBTRACT, a key given twice, or an unknown operation is INVALID_REQUEST.
// validateOnly checks and changes nothing.
// BROKER and BROKER_LOGGER: static here, so any change is INVALID_CONFIG with Kafka's "Cannot
// update these configs dynamically" and how to change them instead; an empty set succeeds.
// A resource named twice is INVALID_REQUEST.
import {
  IncrementalAlterConfigsRequestMessage,
  IncrementalAlterConfigsResponseMessage,
  createIncrementalAlterConfigsResponse,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse,
} from '../protocol/generated/index.js';
import type { AlterConfigsResource, AlterableConfig } from '../protocol/generated/IncrementalAlterConfigsRequest.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { effectiveTopicConfigs, topicConfigDef } from '../log/topic-config.js';
import type { TopicRecord } from '../metadata/types.js';
import type { BrokerContext } from './context.js';
import {
  ALTERED,
  BROKER_LOGGER_UPDATE_PROBLEM,
  alterEachResource,
  brokerUpdateProblem,
  duplicateKey,
  resolveConfigResource,
  topicConfigProblem,
  type AlterOutcome,
} from './config-resources.js';
import { defineHandler } from './types.js';

/** AlterConfigOp.OpType codes. */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'];

export function incrementalAlterConfigsHandler(b: BrokerContext) {
  return defineHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>({
    request: IncrementalAlterConfigsRequestMessage,
    response: IncrementalAlterConfigsResponseMessage,
    minVersion: 0,
    maxVersion: 1,
    async handle(req) {
      const responses = await alterEachResource(req.resources, (r) => alterOne(b, r, req.validateOnly));
      return { ...createIncrementalAlterConfigsResponse(), responses };
    },
    errorResponse(req, errorCode, message) {
      return {
        ...createIncrementalAlterConfigsResponse(),
        responses: (req?.resources ?? []).map((r) => ({ errorCode, errorMessage: message, resourceType: r.resourceType, resourceName: r.resourceName })),
      };
    },
  });
}

class Refusal {
  constructor(
    readonly errorCode: number,
    readonly errorMessage: string,
  ) {}
}

async function alterOne(b: BrokerContext, r: AlterConfigsResource, validateOnly: boolean): Promise<AlterOutcome> {
  const resource = await resolveConfigResource(b, r.resourceType, r.resourceName);
  if (resource.kind === 'error') return { errorCode: resource.errorCode, errorMessage: resource.errorMessage };
  const dup = duplicateKey(r.configs);
  if (dup !== undefined) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `config '${dup}' is given more than once` };
  const badOp = r.configs.find((c) => OP_NAMES[c.configOperation] === undefined);
  if (badOp) {
    return {
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `unknown config operation ${badOp.configOperation} for '${badOp.name}': use 0 (SET), 1 (DELETE), 2 (APPEND) or 3 (SUBTRACT)`,
    };
  }
  if (resource.kind === 'broker' || resource.kind === 'broker-logger') {
    if (r.configs.length === 0) return ALTERED;
    const problem = resource.kind === 'broker' ? brokerUpdateProblem(b, r.configs.map((c) => c.name)) : BROKER_LOGGER_UPDATE_PROBLEM;
    return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem };
  }
  let next: Record<string, string>;
  try {
    next = applyOperations(b, resource.topic, r.configs);
  } catch (err) {
    if (err instanceof Refusal) return { errorCode: err.errorCode, errorMessage: err.errorMessage };
    throw err;
  }
  if (validateOnly) return ALTERED;
  try {
    await b.topics.setConfigs(resource.topic.id, next);
  } catch (err) {
    if (err instanceof KafkaError) return { errorCode: err.code, errorMessage: err.message };
    throw err;
  }
  return ALTERED;
}

/** The topic's override set after the operations; throws Refusal on the first bad one. */
function applyOperations(b: BrokerContext, topic: TopicRecord, ops: readonly AlterableConfig[]): Record<string, string> {
  const next: Record<string, string> = { ...topic.configs };
  const effective = effectiveTopicConfigs(topic.configs, b.profile);
  for (const op of ops) {
    const unknown = topicConfigProblem(op.name, null);
    if (unknown) throw new Refusal(ErrorCode.INVALID_CONFIG, unknown);
    if (op.configOperation === ConfigOperation.DELETE) {
      delete next[op.name];
      continue;
    }
    const opName = OP_NAMES[op.configOperation];
    if (op.value === null) {
      throw new Refusal(ErrorCode.INVALID_REQUEST, `${opName} of '${op.name}' needs a value; use DELETE to return it to its default`);
    }
    let value = op.value;
    if (op.configOperation !== ConfigOperation.SET) {
      const def = topicConfigDef(op.name)!;
      if (def.type !== 'list') {
        throw new Refusal(ErrorCode.INVALID_CONFIG, `${opName} is only for list configs, and '${op.name}' is a ${def.type}; use SET`);
      }
      const current = splitList(next[op.name] ?? effective.get(op.name)!.value);
      const items = splitList(value);
      const merged =
        op.configOperation === ConfigOperation.APPEND
          ? [...current, ...items.filter((i) => !current.includes(i))]
          : current.filter((i) => !items.includes(i));
      value = merged.join(',');
    }
    const problem = topicConfigProblem(op.name, value);
    if (problem) throw new Refusal(ErrorCode.INVALID_CONFIG, problem);
    next[op.name] = value;
  }
  return next;
}

function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}
