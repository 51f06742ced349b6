// The composition root: builds every service from the validated config, in dependency order,
// and tears them down in reverse. Nothing else constructs services, and nothing below the
// handlers imports upward.
import { mkdirSync } from 'node:fs';
import type { BrokerConfig } from './config.js';
import { createLogger, type Logger } from './observability/logger.js';
import { openMetadataStore } from './metadata/index.js';
import type { MetadataStore } from './metadata/types.js';
import { TopicCatalog } from './log/topic-catalog.js';
import { PROFILES } from './log/topic-config.js';
import { SingleNodeClusterView } from './cluster/cluster-view.js';
import { buildHandlerRegistry } from './handlers/index.js';
import type { BrokerContext } from './handlers/context.js';
import { Dispatcher } from './server/dispatcher.js';
import { KafkaServer } from './server/server.js';

export interface RunningAgent {
  readonly config: BrokerConfig;
  readonly kafkaPort: number;
  readonly log: Logger;
  readonly context: BrokerContext;
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
    const store: MetadataStore = await openMetadataStore(config.metadata);
    teardown.push(() => store.close());

    const topics = new TopicCatalog(store);
    await topics.refresh();

    // The advertised port is only known after listening when port 0 was asked for.
    const self = { nodeId: config.nodeId, host: config.advertisedHost, port: config.advertisedPort, rack: null };
    const cluster = new SingleNodeClusterView(store.getClusterId(), self);
    const context: BrokerContext = { config, profile: PROFILES[config.profile], cluster, topics, store };

    const registry = buildHandlerRegistry(context);
    const dispatcher = new Dispatcher(registry, log);
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
    const bound = await listenWithFallback(server, config, log);
    teardown.push(() => server.close(config.shutdownTimeoutMs));
    if (config.kafkaPort === 0 && self.port === 0) self.port = bound.port;
    log.info({ kafka: `${config.host}:${bound.port}`, advertised: `${self.host}:${self.port}`, metadata: redact(config.metadata), objects: config.objects, profile: config.profile }, 'StreamHouse agent started');

    return { config, kafkaPort: bound.port, log, context, stop: stopAll };
  } catch (err) {
    await stopAll();
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

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
