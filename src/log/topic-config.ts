// Topic-level configuration: Kafka's names, types and defaults, plus StreamHouse's
// durability.profile. One table serves validation (CreateTopics, AlterConfigs), DescribeConfigs
// and the documentation. Defaults that depend on the durability profile are resolved through it.

export type ProfileName = 'ultra-safe' | 'balanced' | 'high-throughput' | 'glacier';

export interface DurabilityProfile {
  name: ProfileName;
  /** Whether produced batches go through the WAL at all. */
  wal: boolean;
  /** What acks=all waits for: an fsync covering the batch, the WAL write(), or the memory append. */
  ackOn: 'fsync' | 'write' | 'memory';
  /** Background fsync interval of the WAL (0 = every group commit, -1 = never). */
  syncIntervalMs: number;
  segmentBytes: number;
  segmentMs: number;
}

const MiB = 1024 * 1024;

export const PROFILES: Record<ProfileName, DurabilityProfile> = {
  'ultra-safe': { name: 'ultra-safe', wal: true, ackOn: 'fsync', syncIntervalMs: 0, segmentBytes: 1 * MiB, segmentMs: 5_000 },
  balanced: { name: 'balanced', wal: true, ackOn: 'write', syncIntervalMs: 100, segmentBytes: 10 * MiB, segmentMs: 30_000 },
  'high-throughput': { name: 'high-throughput', wal: true, ackOn: 'write', syncIntervalMs: 1_000, segmentBytes: 100 * MiB, segmentMs: 300_000 },
  glacier: { name: 'glacier', wal: false, ackOn: 'memory', syncIntervalMs: -1, segmentBytes: 100 * MiB, segmentMs: 300_000 },
};

export function isProfileName(s: string): s is ProfileName {
  return Object.hasOwn(PROFILES, s);
}

type ConfigType = 'long' | 'int' | 'double' | 'boolean' | 'string' | 'list' | 'password';

export interface TopicConfigDef {
  name: string;
  type: ConfigType;
  /** Default as Kafka prints it; a function when it follows the broker's durability profile. */
  default: string | ((profile: DurabilityProfile) => string);
  /** Allowed values for enumerations. */
  values?: readonly string[];
  min?: number;
  /** Accepted and stored for client compatibility, but without effect here (say why in `note`). */
  note?: string;
}

const LONG_MAX = '9223372036854775807';

/** Confluent's naming strategies, as Java class names or short names (the registry's validation reads both). */
const SUBJECT_NAME_STRATEGY_VALUES: readonly string[] = ['TopicNameStrategy', 'RecordNameStrategy', 'TopicRecordNameStrategy'].flatMap(
  (s) => [s, `io.confluent.kafka.serializers.subject.${s}`],
);

export const TOPIC_CONFIGS: readonly TopicConfigDef[] = [
  { name: 'cleanup.policy', type: 'list', default: 'delete', values: ['delete', 'compact'], note: 'compact is accepted; compaction is not implemented yet' },
  // Broker-side schema validation (src/registry/validation.ts). The .full pair is StreamHouse's own:
  // it also decodes each payload under its schema, which Confluent Server does not offer.
  { name: 'confluent.key.schema.validation', type: 'boolean', default: 'false' },
  { name: 'confluent.key.schema.validation.full', type: 'boolean', default: 'false' },
  { name: 'confluent.key.subject.name.strategy', type: 'string', default: 'io.confluent.kafka.serializers.subject.TopicNameStrategy', values: SUBJECT_NAME_STRATEGY_VALUES },
  { name: 'confluent.value.schema.validation', type: 'boolean', default: 'false' },
  { name: 'confluent.value.schema.validation.full', type: 'boolean', default: 'false' },
  { name: 'confluent.value.subject.name.strategy', type: 'string', default: 'io.confluent.kafka.serializers.subject.TopicNameStrategy', values: SUBJECT_NAME_STRATEGY_VALUES },
  { name: 'compression.type', type: 'string', default: 'producer', values: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'] },
  { name: 'delete.retention.ms', type: 'long', default: '86400000', min: 0 },
  { name: 'durability.profile', type: 'string', default: (p) => p.name, values: Object.keys(PROFILES) },
  { name: 'file.delete.delay.ms', type: 'long', default: '60000', min: 0 },
  { name: 'flush.messages', type: 'long', default: LONG_MAX, min: 1, note: 'durability follows durability.profile' },
  { name: 'flush.ms', type: 'long', default: LONG_MAX, min: 0, note: 'durability follows durability.profile' },
  { name: 'max.compaction.lag.ms', type: 'long', default: LONG_MAX, min: 1 },
  { name: 'max.message.bytes', type: 'int', default: '1048588', min: 0 },
  { name: 'message.timestamp.after.max.ms', type: 'long', default: '3600000', min: 0 },
  { name: 'message.timestamp.before.max.ms', type: 'long', default: LONG_MAX, min: 0 },
  { name: 'message.timestamp.type', type: 'string', default: 'CreateTime', values: ['CreateTime', 'LogAppendTime'] },
  { name: 'min.cleanable.dirty.ratio', type: 'double', default: '0.5', min: 0 },
  { name: 'min.compaction.lag.ms', type: 'long', default: '0', min: 0 },
  { name: 'min.insync.replicas', type: 'int', default: '1', min: 1, note: 'one durable copy in object storage; acks=all never fails with NOT_ENOUGH_REPLICAS' },
  { name: 'preallocate', type: 'boolean', default: 'false' },
  { name: 'retention.bytes', type: 'long', default: '-1' },
  { name: 'retention.ms', type: 'long', default: '604800000', min: -1 },
  { name: 'segment.bytes', type: 'int', default: (p) => String(p.segmentBytes), min: 14 },
  { name: 'segment.index.bytes', type: 'int', default: '10485760', min: 4 },
  { name: 'segment.jitter.ms', type: 'long', default: '0', min: 0 },
  { name: 'segment.ms', type: 'long', default: (p) => String(p.segmentMs), min: 1 },
  { name: 'unclean.leader.election.enable', type: 'boolean', default: 'false' },
];

const byName = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

export function topicConfigDef(name: string): TopicConfigDef | undefined {
  return byName.get(name);
}

export function defaultValue(def: TopicConfigDef, profile: DurabilityProfile): string {
  return typeof def.default === 'function' ? def.default(profile) : def.default;
}

/** Returns an error message when `value` is not valid for config `name`, else null. */
export function validateTopicConfig(name: string, value: string | null): string | null {
  const def = byName.get(name);
  if (!def) return `unknown topic config '${name}'`;
  if (value === null) return null; // null means "reset to default"
  switch (def.type) {
    case 'long':
    case 'int': {
      if (!/^-?\d+$/.test(value.trim())) return `${name} must be an integer, got '${value}'`;
      const n = BigInt(value.trim());
      if (def.type === 'int' && (n > 2147483647n || n < -2147483648n)) return `${name} must fit in 32 bits, got ${value}`;
      if (n > 9223372036854775807n || n < -9223372036854775808n) return `${name} must fit in 64 bits, got ${value}`;
      if (def.min !== undefined && n < BigInt(def.min)) return `${name} must be at least ${def.min}, got ${value}`;
      return null;
    }
    case 'double': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) return `${name} must be a number, got '${value}'`;
      if (def.min !== undefined && n < def.min) return `${name} must be at least ${def.min}, got ${value}`;
      return null;
    }
    case 'boolean':
      return /^(true|false)$/i.test(value.trim()) ? null : `${name} must be true or false, got '${value}'`;
    case 'list': {
      const items = value.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = def.values ? items.filter((i) => !def.values!.includes(i)) : [];
      if (items.length === 0 || bad.length) return `${name} accepts ${def.values?.join(', ')}; got '${value}'`;
      return null;
    }
    default:
      if (def.values && !def.values.includes(value)) return `${name} accepts ${def.values.join(', ')}; got '${value}'`;
      return null;
  }
}

/** The effective value of every topic config: the topic's own override, else the default. */
export function effectiveTopicConfigs(
  overrides: Record<string, string>,
  brokerProfile: DurabilityProfile,
): Map<string, { value: string; isDefault: boolean }> {
  const profileName = overrides['durability.profile'];
  const profile = profileName && isProfileName(profileName) ? PROFILES[profileName] : brokerProfile;
  const out = new Map<string, { value: string; isDefault: boolean }>();
  for (const def of TOPIC_CONFIGS) {
    const own = overrides[def.name];
    out.set(def.name, own !== undefined ? { value: own, isDefault: false } : { value: defaultValue(def, profile), isDefault: true });
  }
  return out;
}

/** Kafka's topic-name rule: 1-249 characters of [a-zA-Z0-9._-], not "." or "..". */
export function validateTopicName(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be '${name}'`;
  if (name.length > 249) return `topic name is longer than 249 characters`;
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `topic name '${name}' has characters other than ASCII letters, digits, '.', '_' and '-'`;
  return null;
}
