// What the config APIs (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs) share: turning a
// (resource type, resource name) pair into a topic or this broker, Kafka's answers for names
// that do not resolve, and the messages for configs that cannot be changed.
import type { TopicRecord } from '../metadata/types.js';
import { ErrorCode } from '../protocol/errors.js';
import { TOPIC_CONFIGS, validateTopicConfig, validateTopicName } from '../log/topic-config.js';
import type { BrokerContext } from './context.js';
import { ConfigSource, ConfigType, ResourceType, brokerConfigNames, type ConfigEntry } from './config-entries.js';

export type ConfigResource =
  | { kind: 'topic'; topic: TopicRecord }
  /** clusterDefault: resource name "" (Kafka's cluster-wide dynamic broker defaults). */
  | { kind: 'broker'; clusterDefault: boolean }
  | { kind: 'broker-logger' }
  | { kind: 'error'; errorCode: number; errorMessage: string };

const fail = (errorCode: number, errorMessage: string): ConfigResource => ({ kind: 'error', errorCode, errorMessage });

export async function resolveConfigResource(b: BrokerContext, type: number, name: string): Promise<ConfigResource> {
  const self = b.cluster.localNodeId;
  switch (type) {
    case ResourceType.TOPIC: {
      const nameError = validateTopicName(name);
      if (nameError) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
      const topic = await b.topics.get(name);
      if (!topic) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${name}' does not exist`);
      return { kind: 'topic', topic };
    }
    case ResourceType.BROKER:
      if (name === '') return { kind: 'broker', clusterDefault: true };
      if (name === String(self)) return { kind: 'broker', clusterDefault: false };
      return fail(ErrorCode.INVALID_REQUEST, `unexpected broker id '${name}': this broker is ${self}; send the request to broker ${name} or use '' for the cluster-wide defaults`);
    case ResourceType.BROKER_LOGGER:
      if (name === String(self)) return { kind: 'broker-logger' };
      return fail(ErrorCode.INVALID_REQUEST, `unexpected broker id '${name}' for BROKER_LOGGER: this broker is ${self}`);
    default:
      return fail(
        ErrorCode.INVALID_REQUEST,
        `unsupported config resource type ${type}: StreamHouse serves TOPIC (2), BROKER (4) and BROKER_LOGGER (8)`,
      );
  }
}

/** validateTopicConfig, with the list of known names added when the name is unknown. */
export function topicConfigProblem(name: string, value: string | null): string | null {
  const problem = validateTopicConfig(name, value);
  if (problem && !TOPIC_CONFIGS.some((d) => d.name === name)) {
    return `${problem}; topic configs are ${TOPIC_CONFIGS.map((d) => d.name).join(', ')}`;
  }
  return problem;
}

/** The answer to any attempt to change broker configs: Kafka's wording, then how to change them here. */
export function brokerUpdateProblem(b: BrokerContext, names: string[]): string {
  const known = brokerConfigNames(b);
  const unknown = names.filter((n) => !known.has(n));
  const fixed = names.filter((n) => known.has(n));
  const parts: string[] = [];
  if (fixed.length) parts.push(`Cannot update these configs dynamically: ${fixed.join(', ')}`);
  if (unknown.length) parts.push(`unknown broker config(s): ${unknown.join(', ')}`);
  parts.push('StreamHouse broker settings are static: set them with streamhouse serve flags, STREAMHOUSE_* variables or --config, then restart; per-topic settings go on the TOPIC resource');
  return parts.join('. ');
}

const LOGGER_LEVELS: Readonly<Record<string, string>> = {
  fatal: 'FATAL',
  error: 'ERROR',
  warn: 'WARN',
  info: 'INFO',
  debug: 'DEBUG',
  trace: 'TRACE',
  silent: 'OFF',
};

/** BROKER_LOGGER: one root logger (pino) at the level the broker started with. */
export function brokerLoggerEntries(b: BrokerContext): ConfigEntry[] {
  const level = LOGGER_LEVELS[b.config.logLevel] ?? b.config.logLevel.toUpperCase();
  return [
    {
      name: 'root',
      value: level,
      readOnly: true,
      source: ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG,
      isSensitive: false,
      type: ConfigType.STRING,
      synonyms: [],
      documentation: 'Level of the broker log (--log-level); fixed at start-up.',
    },
  ];
}

export const BROKER_LOGGER_UPDATE_PROBLEM =
  'log levels cannot be changed at run time: restart the broker with --log-level (or STREAMHOUSE_LOG_LEVEL)';

export interface AlterOutcome {
  errorCode: number;
  errorMessage: string | null;
}

export interface AlterResult extends AlterOutcome {
  resourceType: number;
  resourceName: string;
}

export const ALTERED: AlterOutcome = { errorCode: ErrorCode.NONE, errorMessage: null };

/**
 * Runs `alter` once per distinct resource, in request order. A resource named twice is answered
 * once with INVALID_REQUEST and not changed, as Kafka does.
 */
export async function alterEachResource<R extends { resourceType: number; resourceName: string }>(
  resources: readonly R[],
  alter: (r: R) => Promise<AlterOutcome>,
): Promise<AlterResult[]> {
  const key = (r: R) => `${r.resourceType}\u0000${r.resourceName}`;
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
  const out: AlterResult[] = [];
  const answered = new Set<string>();
  for (const r of resources) {
    const k = key(r);
    if (answered.has(k)) continue;
    answered.add(k);
    const outcome: AlterOutcome =
      counts.get(k)! > 1
        ? { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `resource '${r.resourceName}' of type ${r.resourceType} appears more than once in the request` }
        : await alter(r);
    out.push({ ...outcome, resourceType: r.resourceType, resourceName: r.resourceName });
  }
  return out;
}

/** The first config name given more than once, if any. */
export function duplicateKey(configs: readonly { name: string }[]): string | undefined {
  const seen = new Set<string>();
  for (const c of configs) {
    if (seen.has(c.name)) return c.name;
    seen.add(c.name);
  }
  return undefined;
}
