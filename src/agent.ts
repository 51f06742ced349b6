// The composition root: builds every service from the validated config, in dependency order,
// and tears them down in reverse. Nothing else constructs services, and nothing below the
// handlers imports upward.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { BrokerConfig } from './config.js';
import { createLogger, type Logger } from './observability/logger.js';
import { openMetadataStore } from './metadata/index.js';
import type { MetadataStore } from './metadata/types.js';
import { TopicCatalog } from './log/topic-catalog.js';
import { PartitionLogManager, openWal } from './log/log-manager.js';
import { openObjectStore } from './s3/index.js';
import { PROFILES } from './log/topic-config.js';
import { SingleNodeClusterView, type ClusterView } from './cluster/cluster-view.js';
import { LeaseManager } from './cluster/lease-manager.js';
import { buildHandlerRegistry } from './handlers/index.js';
import type { BrokerContext, RecordValidator } from './handlers/context.js';
import { schemaValidationSettings, validateBatchSchemas } from './registry/validation.js';
import { Dispatcher } from './server/dispatcher.js';
import { KafkaServer } from './server/server.js';
import { BrokerMetrics, hasPoolStats } from './observability/metrics.js';
import { AdminHttpServer, Readiness } from './observability/http.js';
import { RegistryServer, SchemaRegistry } from './registry/index.js';
import { GroupCoordinator } from './coordinator/group/coordinator.js';
import { consumerGroupLag } from './coordinator/group/lag.js';
import { ProducerStateManager } from './coordinator/producer/producer-state-manager.js';
import { TxnCoordinator, type MarkerWriter } from './coordinator/txn/txn-coordinator.js';
import { ProducerIdManager } from './coordinator/txn/producer-id-manager.js';
import { LogMarkerWriter } from './coordinator/txn/log-marker-writer.js';
import { ClusterMarkerWriter } from './coordinator/txn/cluster-marker-writer.js';
import { PeerClients } from './cluster/peer-clients.js';
import { groupConfigFrom } from './coordinator/group/config.js';

export interface RunningAgent {
  readonly config: BrokerConfig;
  readonly kafkaPort: number;
  readonly log: Logger;
  readonly context: BrokerContext;
  /** Bound port of the admin HTTP listener (/metrics, /health, /ready). */
  readonly httpPort: number;
  readonly metrics: BrokerMetrics;
  readonly readiness: Readiness;
  /** Bound port of the schema registry REST listener. */
  readonly registryPort: number;
  readonly schemaRegistry: SchemaRegistry;
  stop(): Promise<void>;
}

export async function startAgent(config: BrokerConfig, log: Logger = createLogger(config.logLevel)): Promise<RunningAgent> {
  const teardown: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const step of teardown.reverse()) {
      try {
        await step();
      } catch (err) {
        log.error({ err }, 'error during shutdown');
      }
    }
  };
  try {
    if (config.metadata.startsWith('sqlite:') || config.objects.startsWith('file:')) {
      mkdirSync(config.dataDir, { recursive: true });
    }
    const metrics = new BrokerMetrics();
    const readiness = new Readiness();
    const store: MetadataStore = await openMetadataStore(config.metadata);
    teardown.push(() => store.close());
    if (hasPoolStats(store)) metrics.setPoolStatsSource(store);
    readiness.add('metadata', () => store.ping());

    const topics = new TopicCatalog(store);
    await topics.refresh();

    // Cluster mode (a PostgreSQL metadata store): leases decide who leads what (src/cluster/).
    // The manager is built before the logs and stopped after they uploaded their tails.
    let leases: LeaseManager | null = null;
    if (store.backend === 'postgres') {
      mkdirSync(config.dataDir, { recursive: true });
      topics.readThrough = true;
      leases = new LeaseManager({
        store,
        agentId: config.agentId ?? persistentAgentId(config.dataDir),
        host: config.advertisedHost,
        port: config.advertisedPort,
        rack: null,
        walDir: resolve(config.dataDir, 'wal'),
        leaseTimeoutMs: config.leaseTimeoutMs,
        intervalMs: config.heartbeatIntervalMs ?? undefined,
        groupShards: groupConfigFrom(config).shards,
        log: log.child({ component: 'cluster' }),
      });
      const registered = await leases.register();
      config = { ...config, nodeId: registered.nodeId };
      const manager = leases;
      teardown.push(() => manager.stop());
    }

    // The advertised port is only known after listening when port 0 was asked for.
    const self = { nodeId: config.nodeId, host: config.advertisedHost, port: config.advertisedPort, rack: null };
    const single = leases ? null : new SingleNodeClusterView(store.getClusterId(), self);
    const cluster: ClusterView = leases ?? single!;
    // Partition logs: object store, WAL (under the data dir), then the logs themselves, recovered
    // from committed segments and the WAL before the listener accepts a request.
    const objects = await openObjectStore(config.objects, {
      s3Endpoint: config.s3Endpoint ?? undefined,
      s3: s3TimeoutsFromEnv(process.env),
      onRequest: (op, outcome, seconds) => metrics.objectStoreRequest(op, outcome, seconds),
    });
    teardown.push(() => objects.close());
    // A HEAD of an absent key proves the store answers (and the credentials work) without writing.
    readiness.add('objects', async () => {
      await objects.head('streamhouse-readiness-probe');
    });
    // Idempotence and transactions: per-partition producer state, consulted on every append.
    const producers = new ProducerStateManager();
    producers.startExpiration();
    teardown.push(async () => producers.stop());
    let logs: PartitionLogManager | undefined;
    const wal = await openWal(`${config.dataDir}/wal`, PROFILES[config.profile], log, () => logs?.onWalPressure(), {
      onSync: (seconds) => metrics.walSync(seconds),
    });
    metrics.setWalQueueDepthSource(() => wal.pendingAppends());
    logs = new PartitionLogManager({
      store,
      objects,
      wal,
      brokerProfile: PROFILES[config.profile],
      log,
      onLeaderEpoch: (topicId, partition, epoch) => single?.setLeaderEpoch(topicId, partition, epoch),
      producerState: producers,
      leadership: leases ?? undefined,
      metrics,
    });
    const partitionLogs = logs;
    // A graceful stop uploads every tail (glacier tails exist nowhere else) and closes the WAL.
    teardown.push(() => partitionLogs.close());
    await partitionLogs.recover();
    const previousOnChange = topics.onChange;
    topics.onChange = (event, topic) => {
      previousOnChange?.(event, topic);
      partitionLogs.onTopicChange(event, topic);
      if (event === 'deleted') producers.drop(topic.id);
    };
    // Consumer groups: loaded from the store before the listener opens, so members of a group
    // that existed before a restart find it at its generation.
    const groups = new GroupCoordinator({ store, topics, config: groupConfigFrom(config), log, nodeId: config.nodeId, placement: leases ?? undefined });
    await groups.start();
    teardown.push(() => groups.stop());
    metrics.setGroupLagSource(() =>
      consumerGroupLag(store.offsets, async (name, partition) => {
        const topic = await topics.get(name);
        return topic ? partitionLogs.getOpen(topic.id, partition)?.highWatermark() : undefined;
      }),
    );
    // Transactions: loaded from the store; transactions a crash left prepared are completed. In
    // cluster mode they follow the coordinator shard leases, and markers for partitions another
    // agent leads go to it as WriteTxnMarkers.
    const localMarkers = new LogMarkerWriter(partitionLogs, (id) => topics.getById(id));
    let markers: MarkerWriter = localMarkers;
    if (leases) {
      const peers = new PeerClients(leases);
      teardown.push(async () => peers.close());
      markers = new ClusterMarkerWriter(localMarkers, leases, peers);
    }
    const transactions = new TxnCoordinator({
      kv: store.kv,
      producerIds: new ProducerIdManager(store.producerIds),
      offsets: store.offsets,
      markers,
      topicId: async (name) => (await topics.get(name))?.id ?? null,
      log: log.child({ component: 'txn' }),
      placement: leases ?? undefined,
      shards: groupConfigFrom(config).shards,
    });
    producers.verifier = transactions;
    await transactions.start();
    teardown.push(() => transactions.stop());
    const schemaRegistry = new SchemaRegistry(store.schemas);
    const recordValidator: RecordValidator = {
      applies: (t) => schemaValidationSettings(t.configs) !== null,
      // The decompression cap is generous: max.message.bytes bounds the compressed batch only.
      validate: (t, batch) => validateBatchSchemas(t.name, t.configs, batch, schemaRegistry, 64 * 1024 * 1024),
    };
    const context: BrokerContext = { config, profile: PROFILES[config.profile], cluster, topics, store, logs: partitionLogs, groups, transactions, producers, recordValidator, metrics };

    const registry = buildHandlerRegistry(context);
    const dispatcher = new Dispatcher(registry, log, { onRequest: (k, v, s, e) => metrics.request(k, v, s, e) });
    const server = new KafkaServer(
      dispatcher,
      {
        host: config.host,
        port: config.kafkaPort,
        maxFrameBytes: config.socketRequestMaxBytes,
        maxQueuedRequests: config.maxQueuedRequestsPerConnection,
        idleTimeoutMs: config.connectionsMaxIdleMs,
      },
      log,
    );
    let lastCount = 0;
    server.onConnectionCountChange = (n) => {
      metrics.connectionCount(n, n > lastCount);
      lastCount = n;
    };
    server.traffic = metrics;
    const bound = await listenWithFallback(server, config, log);
    teardown.push(() => server.close(config.shutdownTimeoutMs));
    // Admin HTTP starts after the Kafka listener and stops before it (teardown runs in reverse).
    const adminHttp = new AdminHttpServer({ host: config.host, port: config.httpPort, metrics, readiness, log });
    const httpBound = await listenAdminHttp(adminHttp, config, log);
    teardown.push(() => adminHttp.close());
    const registryHttp = new RegistryServer(schemaRegistry, { host: config.host, port: config.registryPort }, log);
    const registryBound = await listenRegistry(registryHttp, config);
    teardown.push(() => registryHttp.close());
    if (config.kafkaPort === 0 && self.port === 0) self.port = bound.port;
    if (leases) {
      if (config.advertisedPort === 0) await leases.setAdvertisedPort(bound.port);
      leases.logs = partitionLogs;
      leases.topics = topics;
      leases.shards = [groups, transactions];
      await leases.start();
    }
    log.info({ kafka: `${config.host}:${bound.port}`, http: `${config.host}:${httpBound.port}`, advertised: `${self.host}:${self.port}`, metadata: redact(config.metadata), objects: config.objects, profile: config.profile }, 'StreamHouse agent started');

    return {
      config,
      kafkaPort: bound.port,
      httpPort: httpBound.port,
      registryPort: registryBound.port,
      schemaRegistry,
      metrics,
      readiness,
      log,
      context,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function listenRegistry(http: RegistryServer, config: BrokerConfig) {
  try {
    return await http.listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (config.host === '::' && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) return http.listen('0.0.0.0');
    if (code === 'EADDRINUSE') {
      throw new Error(`schema registry port ${config.registryPort} is already in use: stop the other process or pass --registry-port`);
    }
    throw err;
  }
}

async function listenAdminHttp(http: AdminHttpServer, config: BrokerConfig, log: Logger) {
  try {
    return await http.listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (config.host === '::' && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) return http.listen('0.0.0.0');
    if (code === 'EADDRINUSE') {
      throw new Error(`admin HTTP port ${config.httpPort} is already in use: stop the other process or pass --http-port`);
    }
    log.debug({ err }, 'admin HTTP listen failed');
    throw err;
  }
}

/** "::" fails on hosts without IPv6; fall back to all IPv4 addresses then. */
async function listenWithFallback(server: KafkaServer, config: BrokerConfig, log: Logger) {
  try {
    return await server.listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (config.host === '::' && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) {
      log.warn('IPv6 is not available; listening on 0.0.0.0');
      return server.listen('0.0.0.0');
    }
    if (code === 'EADDRINUSE') {
      throw new Error(`Kafka port ${config.kafkaPort} is already in use: stop the other process or pass --kafka-port`);
    }
    throw err;
  }
}

/**
 * STREAMHOUSE_S3_REQUEST_TIMEOUT_MS bounds each S3 request (time to the response headers, and the
 * longest silence while a body streams) below the defaults of 60 s / 30 s, so a stalled server is
 * retried sooner. An environment-only knob: few deployments need it; fault tests do.
 */
function s3TimeoutsFromEnv(env: NodeJS.ProcessEnv): { requestTimeoutMs?: number; socketTimeoutMs?: number } {
  const raw = env.STREAMHOUSE_S3_REQUEST_TIMEOUT_MS;
  if (raw === undefined || raw === '') return {};
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 100) {
    throw new Error(`STREAMHOUSE_S3_REQUEST_TIMEOUT_MS must be a whole number of milliseconds of at least 100, got '${raw}'; fix or unset it`);
  }
  return { requestTimeoutMs: ms, socketTimeoutMs: Math.min(ms, 30_000) };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/** The agent id kept in the data directory, so a restarted agent takes its own leases back. */
function persistentAgentId(dataDir: string): string {
  const path = resolve(dataDir, 'agent-id');
  try {
    const id = readFileSync(path, 'utf8').trim();
    if (id) return id;
  } catch {
    // first start
  }
  const id = randomUUID();
  writeFileSync(path, `${id}\n`);
  return id;
}
