// A KIP-848 consumer group's state: the group epoch (bumped when membership or subscriptions
// change), the target assignment computed for an assignment epoch, and each member's current
// assignment and epoch as it converges on the target. Transitions are in consumer-protocol.ts.
import type { TopicAssignment } from './assignment.js';

export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable' | 'Dead';

/**
 * stable: owns its target; unrevoked_partitions: must give partitions up before it may move to
 * the new epoch; unreleased_partitions: at the new epoch, waiting for others to release some.
 */
export type ConsumerMemberState = 'stable' | 'unrevoked_partitions' | 'unreleased_partitions';

export interface ConsumerMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  memberEpoch: number;
  previousMemberEpoch: number;
  state: ConsumerMemberState;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  /** Partitions the member owns now. */
  assigned: TopicAssignment;
  /** Partitions the member was asked to give up and has not confirmed yet. */
  pendingRevocation: TopicAssignment;
}

export class ConsumerGroup {
  readonly kind = 'consumer' as const;
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerMember>();
  readonly staticMembers = new Map<string, string>();
  readonly targetAssignment = new Map<string, TopicAssignment>();
  /** topic name -> "id:partitions" of the subscribed topics when the group epoch was last bumped. */
  subscriptionMetadata = '';
  stateTimestamp: number;
  dead = false;
  kvVersion = 0;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.stateTimestamp = now;
  }

  get state(): ConsumerGroupState {
    if (this.dead) return 'Dead';
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== 'stable') return 'Reconciling';
    }
    return 'Stable';
  }

  /** The assignor every member asked for, or the default (Kafka picks the most requested). */
  preferredAssignor(defaultName: string): string {
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      if (m.serverAssignor) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    }
    let best = defaultName;
    let n = 0;
    for (const [name, v] of votes) {
      if (v > n) {
        best = name;
        n = v;
      }
    }
    return best;
  }

  add(m: ConsumerMember): void {
    this.members.set(m.memberId, m);
    if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
  }

  remove(memberId: string): ConsumerMember | undefined {
    const m = this.members.get(memberId);
    if (!m) return undefined;
    this.members.delete(memberId);
    this.targetAssignment.delete(memberId);
    if (m.instanceId !== null && this.staticMembers.get(m.instanceId) === memberId) this.staticMembers.delete(m.instanceId);
    return m;
  }
}
