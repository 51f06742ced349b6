// What handlers may use: the broker's services, built once by the composition root (agent.ts).
import type { BrokerConfig } from '../config.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import type { TopicCatalog } from '../log/topic-catalog.js';
import type { DurabilityProfile } from '../log/topic-config.js';

export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly profile: DurabilityProfile;
  readonly cluster: ClusterView;
  readonly topics: TopicCatalog;
}
