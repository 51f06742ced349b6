// What handlers may use: the broker's services, built once by the composition root (agent.ts).
import type { BrokerConfig } from '../config.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import type { TopicCatalog } from '../log/topic-catalog.js';
import type { DurabilityProfile } from '../log/topic-config.js';
import type { MetadataStore } from '../metadata/types.js';
import type { LogManager } from '../log/types.js';

export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly profile: DurabilityProfile;
  readonly cluster: ClusterView;
  readonly topics: TopicCatalog;
  readonly store: MetadataStore;
  /** Partition logs (Produce, Fetch, ListOffsets, ...); absent until the log layer is wired in. */
  readonly logs?: LogManager;
}
