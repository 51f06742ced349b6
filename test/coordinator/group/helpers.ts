// A coordinator over an in-memory SQLite store with a manual clock, for state-machine tests.
import { randomUUID } from 'node:crypto';
import { openMetadataStore } from '../../../src/metadata/index.js';
import type { MetadataStore } from '../../../src/metadata/types.js';
import { TopicCatalog } from '../../../src/log/topic-catalog.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { GroupCoordinator } from '../../../src/coordinator/group/coordinator.js';
import { DEFAULT_GROUP_COORDINATOR_CONFIG, type GroupCoordinatorConfig } from '../../../src/coordinator/group/config.js';
import { ManualTimer } from '../../../src/coordinator/group/timer.js';
import { encodeSubscription } from '../../../src/coordinator/group/consumer-protocol-data.js';
import type { JoinGroupInput } from '../../../src/coordinator/group/classic-protocol.js';

export interface Fixture {
  store: MetadataStore;
  topics: TopicCatalog;
  timer: ManualTimer;
  coordinator: GroupCoordinator;
  config: GroupCoordinatorConfig;
  /** A second coordinator over the same store, as after a restart. */
  restart(): Promise<GroupCoordinator>;
}

export async function fixture(overrides: Partial<GroupCoordinatorConfig> = {}, topics: Record<string, number> = { t: 4 }): Promise<Fixture> {
  const store = await openMetadataStore('sqlite::memory:');
  for (const [name, partitions] of Object.entries(topics)) await store.topics.createTopic({ name, id: randomUUID(), partitions, configs: {} });
  const catalog = new TopicCatalog(store);
  const timer = new ManualTimer();
  const config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, initialRebalanceDelayMs: 0, ...overrides };
  const make = async () => {
    const c = new GroupCoordinator({ store, topics: catalog, config, log: silentLogger(), nodeId: 0, timer });
    await c.start();
    return c;
  };
  const coordinator = await make();
  return { store, topics: catalog, timer, coordinator, config, restart: make };
}

export function consumerMetadata(topics: string[]): Buffer {
  return encodeSubscription({ topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null });
}

export function joinInput(groupId: string, over: Partial<JoinGroupInput> = {}): JoinGroupInput {
  return {
    groupId,
    memberId: '',
    groupInstanceId: null,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: consumerMetadata(['t']) }],
    clientId: 'c',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: true,
    ...over,
  };
}

/** Lets pending promise callbacks (and SQLite writes) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
