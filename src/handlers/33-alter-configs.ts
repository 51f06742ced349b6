// AlterConfigs (key 33), versions 0-2: Kafka's legacy, non-incremental form.
// TOPIC: the request's configs replace the topic's whole override set (a config left out returns
// to its default). Every name and value is checked first; one bad entry rejects the resource with
// INVALID_CONFIG naming the key and what it accepts, and nothing changes. Null values are
// INVALID_REQUEST, as in Kafka. validateOnly checks and changes nothing.
// BROKER: broker settings are static here, so any config is INVALID_CONFIG ("Cannot update these
// configs dynamically", Kafka's words for static configs); an empty set succeeds.
// BROKER_LOGGER is INVALID_REQUEST: Kafka serves it only through IncrementalAlterConfigs.
// A resource named twice is INVALID_REQUEST.
import {
  AlterConfigsRequestMessage,
  AlterConfigsResponseMessage,
  createAlterConfigsResponse,
  type AlterConfigsRequest,
  type AlterConfigsResponse,
} from '../protocol/generated/index.js';
import type { AlterConfigsResource } from '../protocol/generated/AlterConfigsRequest.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { BrokerContext } from './context.js';
import {
  ALTERED,
  alterEachResource,
  brokerUpdateProblem,
  duplicateKey,
  resolveConfigResource,
  topicConfigProblem,
  type AlterOutcome,
} from './config-resources.js';
import { defineHandler } from './types.js';

export function alterConfigsHandler(b: BrokerContext) {
  return defineHandler<AlterConfigsRequest, AlterConfigsResponse>({
    request: AlterConfigsRequestMessage,
    response: AlterConfigsResponseMessage,
    minVersion: 0,
    maxVersion: 2,
    async handle(req) {
      const responses = await alterEachResource(req.resources, (r) => alterOne(b, r, req.validateOnly));
      return { ...createAlterConfigsResponse(), responses };
    },
    errorResponse(req, errorCode, message) {
      return {
        ...createAlterConfigsResponse(),
        responses: (req?.resources ?? []).map((r) => ({ errorCode, errorMessage: message, resourceType: r.resourceType, resourceName: r.resourceName })),
      };
    },
  });
}

const refuse = (errorCode: number, errorMessage: string): AlterOutcome => ({ errorCode, errorMessage });

async function alterOne(b: BrokerContext, r: AlterConfigsResource, validateOnly: boolean): Promise<AlterOutcome> {
  const resource = await resolveConfigResource(b, r.resourceType, r.resourceName);
  if (resource.kind === 'error') return refuse(resource.errorCode, resource.errorMessage);
  const dup = duplicateKey(r.configs);
  if (dup !== undefined) return refuse(ErrorCode.INVALID_REQUEST, `config '${dup}' is given more than once`);
  const nulls = r.configs.filter((c) => c.value === null).map((c) => c.name);
  if (nulls.length) {
    return refuse(ErrorCode.INVALID_REQUEST, `null values are not supported for: ${nulls.join(', ')}; leave a config out to return it to its default`);
  }
  if (resource.kind === 'broker-logger') {
    return refuse(ErrorCode.INVALID_REQUEST, 'AlterConfigs does not support BROKER_LOGGER resources; use IncrementalAlterConfigs');
  }
  if (resource.kind === 'broker') {
    return r.configs.length === 0 ? ALTERED : refuse(ErrorCode.INVALID_CONFIG, brokerUpdateProblem(b, r.configs.map((c) => c.name)));
  }
  const next: Record<string, string> = {};
  for (const c of r.configs) {
    const problem = topicConfigProblem(c.name, c.value);
    if (problem) return refuse(ErrorCode.INVALID_CONFIG, problem);
    next[c.name] = c.value!;
  }
  if (validateOnly) return ALTERED;
  try {
    await b.topics.setConfigs(resource.topic.id, next);
  } catch (err) {
    if (err instanceof KafkaError) return refuse(err.code, err.message);
    throw err;
  }
  return ALTERED;
}
