// How topic and broker configs are described to clients (DescribeConfigs, CreateTopics v5+):
// Kafka's names, types, sources and synonyms. Topic configs come from log/topic-config.ts; the
// broker's own settings come from BrokerConfig under the Kafka name where one exists, plus the
// broker-level default of every topic config under its Kafka broker synonym (retention.ms ->
// log.retention.ms, ...). Broker settings are static here (flags, environment, config file), so
// every broker entry is read-only.
import { isAbsolute, resolve } from 'node:path';
import { OPTIONS, type BrokerConfig } from '../config.js';
import {
  PROFILES,
  TOPIC_CONFIGS,
  defaultValue,
  effectiveTopicConfigs,
  isProfileName,
  type TopicConfigDef,
} from '../log/topic-config.js';
import type { BrokerContext } from './context.js';

/** ConfigResource.Type codes. */
export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/** DescribeConfigsResponse ConfigSource codes (Kafka's DescribeConfigsResponse.ConfigSource ids). */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;

/** DescribeConfigs v3+ ConfigType codes. */
export const ConfigType = { BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9 } as const;

type ValueType = TopicConfigDef['type'];

const TYPE_CODES: Record<ValueType, number> = {
  boolean: ConfigType.BOOLEAN,
  string: ConfigType.STRING,
  int: ConfigType.INT,
  long: ConfigType.LONG,
  double: ConfigType.DOUBLE,
  list: ConfigType.LIST,
  password: ConfigType.PASSWORD,
};

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: number;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
  isSensitive: boolean;
  /** ConfigType code. */
  type: number;
  /** This entry's own source first, then where the value would come from without it. */
  synonyms: ConfigSynonym[];
  documentation: string;
}

/** The broker-level setting Kafka uses as the default of each topic config. */
export const BROKER_SYNONYM: Readonly<Record<string, string>> = {
  'cleanup.policy': 'log.cleanup.policy',
  'compression.type': 'compression.type',
  'delete.retention.ms': 'log.cleaner.delete.retention.ms',
  'durability.profile': 'durability.profile',
  'file.delete.delay.ms': 'log.segment.delete.delay.ms',
  'flush.messages': 'log.flush.interval.messages',
  'flush.ms': 'log.flush.interval.ms',
  'max.compaction.lag.ms': 'log.cleaner.max.compaction.lag.ms',
  'max.message.bytes': 'message.max.bytes',
  'message.timestamp.after.max.ms': 'log.message.timestamp.after.max.ms',
  'message.timestamp.before.max.ms': 'log.message.timestamp.before.max.ms',
  'message.timestamp.type': 'log.message.timestamp.type',
  'min.cleanable.dirty.ratio': 'log.cleaner.min.cleanable.ratio',
  'min.compaction.lag.ms': 'log.cleaner.min.compaction.lag.ms',
  'min.insync.replicas': 'min.insync.replicas',
  preallocate: 'log.preallocate',
  'retention.bytes': 'log.retention.bytes',
  'retention.ms': 'log.retention.ms',
  'segment.bytes': 'log.segment.bytes',
  'segment.index.bytes': 'log.index.size.max.bytes',
  'segment.jitter.ms': 'log.roll.jitter.ms',
  'segment.ms': 'log.roll.ms',
  'unclean.leader.election.enable': 'unclean.leader.election.enable',
};

const TOPIC_DOCS: Readonly<Record<string, string>> = {
  'cleanup.policy': 'How old log segments are removed: delete (by retention) or compact (latest value per key).',
  'compression.type': 'Compression of stored batches; producer keeps what the producer sent.',
  'delete.retention.ms': 'How long delete tombstones are kept on compacted topics.',
  'durability.profile': 'StreamHouse durability profile: what acks=all waits for, WAL fsync cadence and segment size (ultra-safe, balanced, high-throughput, glacier).',
  'file.delete.delay.ms': 'Delay before a deleted segment is removed from storage.',
  'flush.messages': 'Kafka flush interval in messages.',
  'flush.ms': 'Kafka flush interval in milliseconds.',
  'max.compaction.lag.ms': 'Longest time a record stays ineligible for compaction.',
  'max.message.bytes': 'Largest record batch the topic accepts, in bytes.',
  'message.timestamp.after.max.ms': 'How far a record timestamp may lie in the future of the broker clock.',
  'message.timestamp.before.max.ms': 'How far a record timestamp may lie in the past of the broker clock.',
  'message.timestamp.type': 'CreateTime keeps the producer timestamp; LogAppendTime replaces it with the broker time.',
  'min.cleanable.dirty.ratio': 'Share of uncompacted log that triggers compaction.',
  'min.compaction.lag.ms': 'Shortest time a record stays uncompacted.',
  'min.insync.replicas': 'Replicas that must acknowledge acks=all writes.',
  preallocate: 'Preallocate segment files.',
  'retention.bytes': 'Largest size a partition may reach before old segments are deleted (-1: no limit).',
  'retention.ms': 'How long records are kept before their segment is deleted (-1: forever).',
  'segment.bytes': 'Segment size at which the tail is rolled and uploaded to object storage.',
  'segment.index.bytes': 'Size of the offset index per segment.',
  'segment.jitter.ms': 'Random jitter subtracted from segment.ms.',
  'segment.ms': 'Age at which the tail is rolled and uploaded even when not full.',
  'unclean.leader.election.enable': 'Whether an out-of-sync replica may become leader.',
};

const DEFAULT_PROFILE = 'balanced';

function topicDoc(def: TopicConfigDef): string {
  const doc = TOPIC_DOCS[def.name] ?? '';
  return def.note ? `${doc} StreamHouse: ${def.note}.` : doc;
}

/** Whether the broker's --profile changes this topic config's default (then it is a static broker config). */
function brokerOverridesDefault(b: BrokerContext, def: TopicConfigDef): boolean {
  if (b.config.profile === DEFAULT_PROFILE || typeof def.default !== 'function') return false;
  return defaultValue(def, b.profile) !== defaultValue(def, PROFILES[DEFAULT_PROFILE]);
}

/** Every topic config with its effective value, as DescribeConfigs and CreateTopics v5+ report it. */
export function topicConfigEntries(b: BrokerContext, overrides: Record<string, string>): ConfigEntry[] {
  const effective = effectiveTopicConfigs(overrides, b.profile);
  const topicProfile = overrides['durability.profile'];
  const profileFromTopic = topicProfile !== undefined && isProfileName(topicProfile);
  return TOPIC_CONFIGS.map((def) => {
    const { value, isDefault } = effective.get(def.name)!;
    const brokerName = BROKER_SYNONYM[def.name] ?? def.name;
    const brokerStatic = brokerOverridesDefault(b, def);
    const synonyms: ConfigSynonym[] = [];
    if (!isDefault) synonyms.push({ name: def.name, value, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    if (brokerStatic) synonyms.push({ name: brokerName, value: defaultValue(def, b.profile), source: ConfigSource.STATIC_BROKER_CONFIG });
    synonyms.push({ name: brokerName, value: defaultValue(def, PROFILES[DEFAULT_PROFILE]), source: ConfigSource.DEFAULT_CONFIG });
    // A default that follows the topic's own durability.profile stays DEFAULT_CONFIG (its value is
    // the profile's): the topic did not set it, and deleting it would change nothing.
    let source: number = ConfigSource.DEFAULT_CONFIG;
    if (!isDefault) source = ConfigSource.DYNAMIC_TOPIC_CONFIG;
    else if (brokerStatic && !(profileFromTopic && typeof def.default === 'function')) source = ConfigSource.STATIC_BROKER_CONFIG;
    return {
      name: def.name,
      value,
      readOnly: false,
      source,
      isSensitive: false,
      type: TYPE_CODES[def.type],
      synonyms,
      documentation: topicDoc(def),
    };
  });
}

interface BrokerSetting {
  name: string;
  type: ValueType;
  value: string;
  /** The BrokerConfig key it comes from; its default decides STATIC_BROKER_CONFIG vs DEFAULT_CONFIG. */
  option?: keyof BrokerConfig;
  /** Kafka's default where it differs from ours or there is no option. */
  kafkaDefault?: string;
  documentation: string;
}

function optionDefault(key: keyof BrokerConfig): string | undefined {
  const def = OPTIONS.find((o) => o.key === key)?.default;
  return def === undefined || def === null || typeof def === 'function' ? undefined : String(def);
}

function optionDoc(key: keyof BrokerConfig): string {
  return OPTIONS.find((o) => o.key === key)?.description ?? '';
}

function brokerSettings(b: BrokerContext): BrokerSetting[] {
  const c = b.config;
  const self = b.cluster.brokers().find((x) => x.nodeId === b.cluster.localNodeId);
  const advertisedHost = self?.host ?? c.advertisedHost;
  const advertisedPort = self?.port ?? c.advertisedPort;
  const host = advertisedHost.includes(':') ? `[${advertisedHost}]` : advertisedHost;
  const own = (name: string, type: ValueType, option: keyof BrokerConfig, value: unknown): BrokerSetting => ({
    name,
    type,
    value: String(value),
    option,
    documentation: optionDoc(option),
  });
  return [
    own('broker.id', 'int', 'nodeId', c.nodeId),
    own('node.id', 'int', 'nodeId', c.nodeId),
    {
      name: 'advertised.listeners',
      type: 'string',
      value: `PLAINTEXT://${host}:${advertisedPort}`,
      documentation: 'Listener clients are told to connect to (--advertised-host, --advertised-port).',
    },
    {
      name: 'log.dirs',
      type: 'string',
      value: isAbsolute(c.dataDir) ? c.dataDir : resolve(c.dataDir),
      option: 'dataDir',
      documentation: optionDoc('dataDir'),
    },
    own('num.partitions', 'int', 'numPartitions', c.numPartitions),
    own('auto.create.topics.enable', 'boolean', 'autoCreateTopics', c.autoCreateTopics),
    own('default.replication.factor', 'int', 'defaultReplicationFactor', c.defaultReplicationFactor),
    own('socket.request.max.bytes', 'int', 'socketRequestMaxBytes', c.socketRequestMaxBytes),
    own('connections.max.idle.ms', 'long', 'connectionsMaxIdleMs', c.connectionsMaxIdleMs),
  ];
}

/** The broker's configs: its own settings, then the broker-level default of every topic config. */
export function brokerConfigEntries(b: BrokerContext): ConfigEntry[] {
  const entries: ConfigEntry[] = brokerSettings(b).map((s) => {
    const dflt = s.option ? optionDefault(s.option) : s.kafkaDefault;
    const source = dflt !== undefined && dflt === s.value ? ConfigSource.DEFAULT_CONFIG : ConfigSource.STATIC_BROKER_CONFIG;
    const synonyms: ConfigSynonym[] = [{ name: s.name, value: s.value, source }];
    if (source === ConfigSource.STATIC_BROKER_CONFIG && dflt !== undefined) {
      synonyms.push({ name: s.name, value: dflt, source: ConfigSource.DEFAULT_CONFIG });
    }
    return { name: s.name, value: s.value, readOnly: true, source, isSensitive: false, type: TYPE_CODES[s.type], synonyms, documentation: s.documentation };
  });
  for (const def of TOPIC_CONFIGS) {
    const name = BROKER_SYNONYM[def.name] ?? def.name;
    const value = defaultValue(def, b.profile);
    const isStatic = brokerOverridesDefault(b, def);
    const source = isStatic ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
    const synonyms: ConfigSynonym[] = [{ name, value, source }];
    if (isStatic) synonyms.push({ name, value: defaultValue(def, PROFILES[DEFAULT_PROFILE]), source: ConfigSource.DEFAULT_CONFIG });
    entries.push({
      name,
      value,
      readOnly: true,
      source,
      isSensitive: false,
      type: TYPE_CODES[def.type],
      synonyms,
      documentation: `Default of the topic config ${def.name}. ${topicDoc(def)}`.trim(),
    });
  }
  return entries;
}

/** Names of every config the broker resource reports (for "cannot update" messages). */
export function brokerConfigNames(b: BrokerContext): Set<string> {
  return new Set(brokerConfigEntries(b).map((e) => e.name));
}
