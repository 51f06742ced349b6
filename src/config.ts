// Broker configuration: one schema gives the CLI flags, the STREAMHOUSE_* environment variables,
// the keys of a --config JSON file, validation and the README's reference table.
// Precedence, highest first: command-line flag, environment variable, config file, default.
import { readFileSync } from 'node:fs';
import { isProfileName, type ProfileName } from './log/topic-config.js';

export interface BrokerConfig {
  dataDir: string;
  host: string;
  kafkaPort: number;
  advertisedHost: string;
  advertisedPort: number;
  registryPort: number;
  httpPort: number;
  metadata: string;
  objects: string;
  s3Endpoint: string | null;
  profile: ProfileName;
  nodeId: number;
  autoCreateTopics: boolean;
  numPartitions: number;
  defaultReplicationFactor: number;
  socketRequestMaxBytes: number;
  connectionsMaxIdleMs: number;
  maxQueuedRequestsPerConnection: number;
  shutdownTimeoutMs: number;
  logLevel: string;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
  offsetsRetentionMinutes: number;
  agentId: string | null;
  leaseTimeoutMs: number;
  heartbeatIntervalMs: number | null;
  groupConsumerSessionTimeoutMs: number;
  groupConsumerHeartbeatIntervalMs: number;
}

type Kind = 'string' | 'port' | 'int' | 'bool' | 'enum' | 'url';

export interface OptionDef {
  key: keyof BrokerConfig;
  flag: string;
  env: string;
  kind: Kind;
  /** The default, or a function of the already-resolved values (e.g. paths under --data-dir). */
  default: unknown | ((c: Partial<BrokerConfig>) => unknown);
  values?: readonly string[];
  min?: number;
  schemes?: readonly string[];
  description: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const OPTIONS: readonly OptionDef[] = [
  { key: 'dataDir', flag: '--data-dir', env: 'STREAMHOUSE_DATA_DIR', kind: 'string', default: './streamhouse-data', description: 'Directory for the embedded metadata database, the local object store and the WAL.' },
  { key: 'host', flag: '--host', env: 'STREAMHOUSE_HOST', kind: 'string', default: '::', description: 'Address the Kafka listener binds ("::" listens on IPv6 and IPv4 where available).' },
  { key: 'kafkaPort', flag: '--kafka-port', env: 'STREAMHOUSE_KAFKA_PORT', kind: 'port', default: 9092, description: 'Kafka protocol port (0 picks a free one).' },
  { key: 'advertisedHost', flag: '--advertised-host', env: 'STREAMHOUSE_ADVERTISED_HOST', kind: 'string', default: 'localhost', description: 'Host name clients are told to connect to (Metadata responses).' },
  { key: 'advertisedPort', flag: '--advertised-port', env: 'STREAMHOUSE_ADVERTISED_PORT', kind: 'port', default: (c: Partial<BrokerConfig>) => c.kafkaPort, description: 'Port clients are told to connect to; defaults to --kafka-port.' },
  { key: 'registryPort', flag: '--registry-port', env: 'STREAMHOUSE_REGISTRY_PORT', kind: 'port', default: 8081, description: 'Schema registry HTTP port.' },
  { key: 'httpPort', flag: '--http-port', env: 'STREAMHOUSE_HTTP_PORT', kind: 'port', default: 8080, description: 'Admin HTTP port: /metrics, /health, /ready.' },
  { key: 'metadata', flag: '--metadata', env: 'STREAMHOUSE_METADATA', kind: 'url', schemes: ['sqlite:', 'postgres:', 'postgresql:'], default: (c: Partial<BrokerConfig>) => `sqlite:${c.dataDir}/meta.sqlite`, description: 'Metadata store: sqlite:PATH (embedded) or postgres://user:pass@host/db.' },
  { key: 'objects', flag: '--objects', env: 'STREAMHOUSE_OBJECTS', kind: 'url', schemes: ['file:', 's3:'], default: (c: Partial<BrokerConfig>) => `file:${c.dataDir}/objects`, description: 'Object store: file:PATH or s3://bucket/prefix.' },
  { key: 's3Endpoint', flag: '--s3-endpoint', env: 'STREAMHOUSE_S3_ENDPOINT', kind: 'string', default: null, description: 'Custom S3 endpoint (MinIO, s3rver); implies path-style addressing.' },
  { key: 'profile', flag: '--profile', env: 'STREAMHOUSE_PROFILE', kind: 'enum', values: ['ultra-safe', 'balanced', 'high-throughput', 'glacier'], default: 'balanced', description: 'Default durability profile for topics without durability.profile.' },
  { key: 'nodeId', flag: '--node-id', env: 'STREAMHOUSE_NODE_ID', kind: 'int', min: 0, default: 0, description: 'Broker id reported in Metadata.' },
  { key: 'autoCreateTopics', flag: '--auto-create-topics', env: 'STREAMHOUSE_AUTO_CREATE_TOPICS', kind: 'bool', default: true, description: 'auto.create.topics.enable: create unknown topics on Metadata requests that allow it.' },
  { key: 'numPartitions', flag: '--num-partitions', env: 'STREAMHOUSE_NUM_PARTITIONS', kind: 'int', min: 1, default: 1, description: 'num.partitions: partitions of auto-created topics and of CreateTopics with -1.' },
  { key: 'defaultReplicationFactor', flag: '--default-replication-factor', env: 'STREAMHOUSE_DEFAULT_REPLICATION_FACTOR', kind: 'int', min: 1, default: 1, description: 'Replication factor reported for topics (data has one durable copy in object storage).' },
  { key: 'socketRequestMaxBytes', flag: '--socket-request-max-bytes', env: 'STREAMHOUSE_SOCKET_REQUEST_MAX_BYTES', kind: 'int', min: 1024, default: 104857600, description: 'socket.request.max.bytes: larger frames close the connection.' },
  { key: 'connectionsMaxIdleMs', flag: '--connections-max-idle-ms', env: 'STREAMHOUSE_CONNECTIONS_MAX_IDLE_MS', kind: 'int', min: 0, default: 600000, description: 'connections.max.idle.ms: idle connections are closed (0 = never).' },
  { key: 'maxQueuedRequestsPerConnection', flag: '--max-queued-requests', env: 'STREAMHOUSE_MAX_QUEUED_REQUESTS', kind: 'int', min: 1, default: 256, description: 'Unanswered requests per connection before the broker stops reading from it.' },
  { key: 'shutdownTimeoutMs', flag: '--shutdown-timeout-ms', env: 'STREAMHOUSE_SHUTDOWN_TIMEOUT_MS', kind: 'int', min: 0, default: 30000, description: 'How long a graceful stop may take before the process exits anyway.' },
  { key: 'logLevel', flag: '--log-level', env: 'STREAMHOUSE_LOG_LEVEL', kind: 'enum', values: LOG_LEVELS, default: 'info', description: 'Log level.' },
  { key: 'groupInitialRebalanceDelayMs', flag: '--group-initial-rebalance-delay-ms', env: 'STREAMHOUSE_GROUP_INITIAL_REBALANCE_DELAY_MS', kind: 'int', min: 0, default: 3000, description: 'group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits for more members.' },
  { key: 'groupMinSessionTimeoutMs', flag: '--group-min-session-timeout-ms', env: 'STREAMHOUSE_GROUP_MIN_SESSION_TIMEOUT_MS', kind: 'int', min: 1, default: 6000, description: 'group.min.session.timeout.ms: smallest session timeout a classic group member may ask for.' },
  { key: 'groupMaxSessionTimeoutMs', flag: '--group-max-session-timeout-ms', env: 'STREAMHOUSE_GROUP_MAX_SESSION_TIMEOUT_MS', kind: 'int', min: 1, default: 1800000, description: 'group.max.session.timeout.ms: largest session timeout a classic group member may ask for.' },
  { key: 'groupMaxSize', flag: '--group-max-size', env: 'STREAMHOUSE_GROUP_MAX_SIZE', kind: 'int', min: 1, default: 2147483647, description: 'group.max.size: members a consumer group may hold.' },
  { key: 'offsetsRetentionMinutes', flag: '--offsets-retention-minutes', env: 'STREAMHOUSE_OFFSETS_RETENTION_MINUTES', kind: 'int', min: 1, default: 10080, description: 'offsets.retention.minutes: committed offsets of an empty group are kept this long.' },
  { key: 'agentId', flag: '--agent-id', env: 'STREAMHOUSE_AGENT_ID', kind: 'string', default: null, description: 'Cluster mode: this agent\'s id in the agents table; default: generated once and kept in <data-dir>/agent-id.' },
  { key: 'leaseTimeoutMs', flag: '--lease-timeout-ms', env: 'STREAMHOUSE_LEASE_TIMEOUT_MS', kind: 'int', min: 300, default: 10000, description: 'Cluster mode (lease.timeout.ms): an agent that stops heartbeating loses its partitions and coordinator shards after this long.' },
  { key: 'heartbeatIntervalMs', flag: '--heartbeat-interval-ms', env: 'STREAMHOUSE_HEARTBEAT_INTERVAL_MS', kind: 'int', min: 50, default: null, description: 'Cluster mode: how often leases are renewed and placement runs; default a third of --lease-timeout-ms.' },
  { key: 'groupConsumerSessionTimeoutMs', flag: '--group-consumer-session-timeout-ms', env: 'STREAMHOUSE_GROUP_CONSUMER_SESSION_TIMEOUT_MS', kind: 'int', min: 1, default: 45000, description: 'group.consumer.session.timeout.ms: a member of a KIP-848 consumer group that sends no heartbeat for this long is removed.' },
  { key: 'groupConsumerHeartbeatIntervalMs', flag: '--group-consumer-heartbeat-interval-ms', env: 'STREAMHOUSE_GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS', kind: 'int', min: 1, default: 5000, description: 'group.consumer.heartbeat.interval.ms: heartbeat interval given to KIP-848 consumer group members; below the session timeout.' },
];

export class ConfigError extends Error {}

/** Validates and converts one raw value; throws ConfigError naming the source and the fix. */
function parseValue(def: OptionDef, raw: unknown, source: string): unknown {
  const where = `${source} (${def.flag} / ${def.env})`;
  const s = typeof raw === 'string' ? raw.trim() : raw;
  switch (def.kind) {
    case 'string':
      if (typeof s !== 'string' || s === '') throw new ConfigError(`${where}: expected a non-empty string, got ${JSON.stringify(raw)}`);
      return s;
    case 'port':
    case 'int': {
      const n = typeof s === 'number' ? s : typeof s === 'string' && /^-?\d+$/.test(s) ? Number(s) : NaN;
      if (!Number.isSafeInteger(n)) throw new ConfigError(`${where}: expected a whole number, got ${JSON.stringify(raw)}`);
      if (def.kind === 'port' && (n < 0 || n > 65535)) throw new ConfigError(`${where}: a port is 0-65535, got ${n}`);
      if (def.min !== undefined && n < def.min) throw new ConfigError(`${where}: must be at least ${def.min}, got ${n}`);
      return n;
    }
    case 'bool':
      if (typeof s === 'boolean') return s;
      if (s === 'true' || s === '1' || s === 'yes') return true;
      if (s === 'false' || s === '0' || s === 'no') return false;
      throw new ConfigError(`${where}: expected true or false, got ${JSON.stringify(raw)}`);
    case 'enum':
      if (typeof s !== 'string' || !def.values!.includes(s)) {
        throw new ConfigError(`${where}: expected one of ${def.values!.join(', ')}; got ${JSON.stringify(raw)}`);
      }
      return s;
    case 'url':
      if (typeof s !== 'string' || !def.schemes!.some((p) => s.startsWith(p))) {
        throw new ConfigError(`${where}: expected a URL starting with ${def.schemes!.join(' or ')}; got ${JSON.stringify(raw)}`);
      }
      return s;
  }
}

export interface ConfigSources {
  /** Values from the command line, keyed by BrokerConfig key (undefined = not given). */
  flags?: Partial<Record<keyof BrokerConfig, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** Path of a JSON config file whose keys are BrokerConfig keys or flag names without dashes. */
  configFile?: string;
}

export function loadConfig(sources: ConfigSources = {}): BrokerConfig {
  const env = sources.env ?? process.env;
  let file: Record<string, unknown> = {};
  const configPath = sources.configFile ?? env.STREAMHOUSE_CONFIG;
  if (configPath) {
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (err) {
      throw new ConfigError(`--config ${configPath}: cannot read the file (${(err as Error).message})`);
    }
    try {
      file = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`--config ${configPath}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw new ConfigError(`--config ${configPath}: expected a JSON object of settings`);
    }
    const known = new Set(OPTIONS.flatMap((o) => [o.key, o.flag.slice(2)]));
    const unknown = Object.keys(file).filter((k) => !known.has(k));
    if (unknown.length) {
      throw new ConfigError(`--config ${configPath}: unknown setting(s) ${unknown.join(', ')}; accepted: ${OPTIONS.map((o) => o.key).join(', ')}`);
    }
  }
  const out: Partial<BrokerConfig> = {};
  for (const def of OPTIONS) {
    const flag = sources.flags?.[def.key];
    const fromFile = file[def.key] ?? file[def.flag.slice(2)];
    let value: unknown;
    if (flag !== undefined) value = parseValue(def, flag, `flag ${def.flag}`);
    else if (env[def.env] !== undefined && env[def.env] !== '') value = parseValue(def, env[def.env], `environment ${def.env}`);
    else if (fromFile !== undefined) value = parseValue(def, fromFile, `config file key ${def.key}`);
    else value = typeof def.default === 'function' ? (def.default as (c: Partial<BrokerConfig>) => unknown)(out) : def.default;
    (out as Record<string, unknown>)[def.key] = value;
  }
  const config = out as BrokerConfig;
  if (!isProfileName(config.profile)) throw new ConfigError(`--profile: unknown profile ${config.profile}`);
  // Kafka refuses the same combination: members would be expired between two heartbeats.
  if (config.groupConsumerHeartbeatIntervalMs >= config.groupConsumerSessionTimeoutMs) {
    throw new ConfigError(
      `--group-consumer-heartbeat-interval-ms (${config.groupConsumerHeartbeatIntervalMs}) must be below --group-consumer-session-timeout-ms (${config.groupConsumerSessionTimeoutMs}); lower the interval or raise the timeout`,
    );
  }
  return config;
}

/** Markdown table of every option, for the README. */
export function configReference(): string {
  const rows = OPTIONS.map((o) => {
    const d = typeof o.default === 'function' ? '(derived)' : JSON.stringify(o.default);
    const accepted = o.values ? ` One of: ${o.values.join(', ')}.` : '';
    return `| \`${o.flag}\` | \`${o.env}\` | \`${o.key}\` | ${d} | ${o.description}${accepted} |`;
  });
  return ['| flag | environment | config file key | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
