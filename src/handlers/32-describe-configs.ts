// DescribeConfigs (key 32), versions 0-4.
// TOPIC: every topic config under Kafka's name (plus durability.profile) with its effective
// value; source DYNAMIC_TOPIC_CONFIG for the topic's own overrides, STATIC_BROKER_CONFIG where
// the broker's --profile changes the default, DEFAULT_CONFIG otherwise. Synonyms (v1+) list the
// override, then the broker-level synonym (retention.ms -> log.retention.ms).
// BROKER with this broker's id: its settings under Kafka's names and the broker-level default of
// every topic config, all read-only (they are static here). BROKER with "" describes the
// cluster-wide dynamic defaults, as in Kafka; there are none, so the list is empty. Another
// broker's id is INVALID_REQUEST, as in Kafka (ask that broker).
// BROKER_LOGGER: one "root" logger at the broker's log level.
// Other resource types (GROUP, CLIENT_METRICS, ...) are INVALID_REQUEST.
// configurationKeys filters by name (unknown names are just absent); documentation (v3+) only
// when asked for. isDefault (v0) means "source is DEFAULT_CONFIG".
import {
  DescribeConfigsRequestMessage,
  DescribeConfigsResponseMessage,
  createDescribeConfigsResponse,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
} from '../protocol/generated/index.js';
import type { DescribeConfigsResource } from '../protocol/generated/DescribeConfigsRequest.js';
import type { DescribeConfigsResourceResult, DescribeConfigsResult } from '../protocol/generated/DescribeConfigsResponse.js';
import { ErrorCode } from '../protocol/errors.js';
import type { BrokerContext } from './context.js';
import { ConfigSource, brokerConfigEntries, topicConfigEntries, type ConfigEntry } from './config-entries.js';
import { brokerLoggerEntries, resolveConfigResource } from './config-resources.js';
import { defineHandler } from './types.js';

export function describeConfigsHandler(b: BrokerContext) {
  return defineHandler<DescribeConfigsRequest, DescribeConfigsResponse>({
    request: DescribeConfigsRequestMessage,
    response: DescribeConfigsResponseMessage,
    minVersion: 0,
    maxVersion: 4,
    async handle(req, ctx) {
      const results: DescribeConfigsResult[] = [];
      for (const r of req.resources) results.push(await describeOne(b, r, req, ctx.apiVersion));
      return { ...createDescribeConfigsResponse(), results };
    },
    errorResponse(req, errorCode, message) {
      return {
        ...createDescribeConfigsResponse(),
        results: (req?.resources ?? []).map((r) => failed(r, errorCode, message)),
      };
    },
  });
}

async function describeOne(
  b: BrokerContext,
  r: DescribeConfigsResource,
  req: DescribeConfigsRequest,
  version: number,
): Promise<DescribeConfigsResult> {
  const resource = await resolveConfigResource(b, r.resourceType, r.resourceName);
  let entries: ConfigEntry[];
  switch (resource.kind) {
    case 'error':
      return failed(r, resource.errorCode, resource.errorMessage);
    case 'topic':
      entries = topicConfigEntries(b, resource.topic.configs);
      break;
    case 'broker':
      entries = resource.clusterDefault ? [] : brokerConfigEntries(b);
      break;
    case 'broker-logger':
      entries = brokerLoggerEntries(b);
      break;
  }
  const keys = r.configurationKeys === null ? null : new Set(r.configurationKeys);
  const configs = entries
    .filter((e) => keys === null || keys.has(e.name))
    .map((e) => toWire(e, version >= 1 && req.includeSynonyms, version >= 3 && req.includeDocumentation));
  return { errorCode: ErrorCode.NONE, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName, configs };
}

function toWire(e: ConfigEntry, withSynonyms: boolean, withDocs: boolean): DescribeConfigsResourceResult {
  return {
    name: e.name,
    value: e.isSensitive ? null : e.value,
    readOnly: e.readOnly,
    isDefault: e.source === ConfigSource.DEFAULT_CONFIG,
    configSource: e.source,
    isSensitive: e.isSensitive,
    synonyms: withSynonyms ? e.synonyms.map((s) => ({ name: s.name, value: e.isSensitive ? null : s.value, source: s.source })) : [],
    configType: e.type,
    documentation: withDocs ? e.documentation : null,
  };
}

function failed(r: DescribeConfigsResource, errorCode: number, errorMessage: string): DescribeConfigsResult {
  return { errorCode, errorMessage, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] };
}
