// Which coordinator shard owns a group id. Kafka hashes the group id (Java String.hashCode)
// modulo the __consumer_offsets partition count; we keep the same rule so the placement is
// familiar, and the cluster layer can own shards by lease ("group-coordinator/<shard>").
// Transactional ids use the same shards: one lease makes an agent coordinator of both.
import type { LeaseFence } from '../../metadata/types.js';

export const DEFAULT_GROUP_SHARDS = 50;

/** Java's String.hashCode over UTF-16 code units. */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

export function groupShard(groupId: string, shards = DEFAULT_GROUP_SHARDS): number {
  // Kafka's Utils.abs maps MIN_VALUE to 0 rather than overflowing.
  const h = javaStringHash(groupId);
  return (h === -2147483648 ? 0 : Math.abs(h)) % shards;
}

export function shardLeaseResource(shard: number): string {
  return `group-coordinator/${shard}`;
}

/**
 * Where the cluster layer says a shard lives. The single-agent placement owns every shard; a
 * lease-based placement answers from the leases table and returns null while a shard moves.
 */
export interface ShardPlacement {
  /** Node id of the shard's coordinator, or null when none is known right now. */
  coordinatorNode(shard: number): number | null;
  /** Whether this agent may serve (and write) the shard. */
  ownsShard(shard: number): boolean;
  /**
   * The lease this agent holds the shard under, for store writes that must fail once another
   * agent took the shard over (LeaseFencedError). Undefined when there are no leases (one agent).
   */
  fence(shard: number): LeaseFence | undefined;
  /** The shard's coordinator epoch (its lease epoch; 0 without leases), for transaction markers. */
  coordinatorEpoch(shard: number): number;
}

export class LocalShardPlacement implements ShardPlacement {
  constructor(private readonly nodeId: number) {}

  coordinatorNode(): number {
    return this.nodeId;
  }

  ownsShard(): boolean {
    return true;
  }

  fence(): undefined {
    return undefined;
  }

  coordinatorEpoch(): number {
    return 0;
  }
}
