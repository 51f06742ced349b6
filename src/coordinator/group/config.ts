// The group coordinator's settings, in Kafka's names, derived from the broker config.
import type { BrokerConfig } from '../../config.js';
import { DEFAULT_GROUP_SHARDS } from './shard.js';

export interface GroupCoordinatorConfig {
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms */
  minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  maxSessionTimeoutMs: number;
  /** group.max.size */
  maxGroupSize: number;
  /** offsets.retention.minutes, in ms */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes */
  offsetMetadataMaxBytes: number;
  /** group.consumer.session.timeout.ms (KIP-848 groups) */
  consumerSessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms (KIP-848 groups) */
  consumerHeartbeatIntervalMs: number;
  /** group.consumer.max.size */
  consumerMaxSize: number;
  /** Coordinator shards (Kafka: offsets.topic.num.partitions). */
  shards: number;
}

export const DEFAULT_GROUP_COORDINATOR_CONFIG: GroupCoordinatorConfig = {
  initialRebalanceDelayMs: 3000,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  maxGroupSize: 2147483647,
  offsetsRetentionMs: 10080 * 60_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4096,
  consumerSessionTimeoutMs: 45_000,
  consumerHeartbeatIntervalMs: 5_000,
  consumerMaxSize: 2147483647,
  shards: DEFAULT_GROUP_SHARDS,
};

export function groupConfigFrom(c: BrokerConfig): GroupCoordinatorConfig {
  return {
    ...DEFAULT_GROUP_COORDINATOR_CONFIG,
    initialRebalanceDelayMs: c.groupInitialRebalanceDelayMs,
    minSessionTimeoutMs: c.groupMinSessionTimeoutMs,
    maxSessionTimeoutMs: c.groupMaxSessionTimeoutMs,
    maxGroupSize: c.groupMaxSize,
    consumerMaxSize: c.groupMaxSize,
    offsetsRetentionMs: c.offsetsRetentionMinutes * 60_000,
    consumerSessionTimeoutMs: c.groupConsumerSessionTimeoutMs,
    consumerHeartbeatIntervalMs: c.groupConsumerHeartbeatIntervalMs,
  };
}
