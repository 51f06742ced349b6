// Manual replica assignments (CreateTopics, CreatePartitions). The durable copy of every partition
// lives in object storage and leadership follows the cluster view, so an assignment decides
// nothing here; it is accepted only when it names brokers that exist, each at most once, so a
// tool that assigns replicas explicitly still works and a typo still fails as it would in Kafka.
import type { BrokerContext } from './context.js';

/** Returns why one partition's replica list is not acceptable, or null. */
export function replicaListProblem(b: BrokerContext, partition: number, brokerIds: readonly number[]): string | null {
  if (brokerIds.length === 0) return `partition ${partition} has an empty replica list`;
  const known = new Set(b.cluster.brokers().map((x) => x.nodeId));
  const seen = new Set<number>();
  for (const id of brokerIds) {
    if (seen.has(id)) return `partition ${partition} lists broker ${id} more than once`;
    seen.add(id);
    if (!known.has(id)) {
      return `partition ${partition} is assigned to broker ${id}, which does not exist; the brokers are ${[...known].join(', ')}`;
    }
  }
  return null;
}
