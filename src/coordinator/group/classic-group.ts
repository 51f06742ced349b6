// A classic (JoinGroup/SyncGroup) group's state: members, generation, the selected protocol and
// the callbacks of requests parked until a rebalance completes. Only data and small queries live
// here; the transitions are in classic-protocol.ts.

export type ClassicGroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface JoinGroupResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  skipAssignment: boolean;
  /** Filled for the leader only: every member with its metadata for the selected protocol. */
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncGroupResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface MemberProtocol {
  name: string;
  metadata: Buffer;
}

export interface ClassicMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: MemberProtocol[];
  assignment: Buffer;
  /** Set while the member's JoinGroup waits for the rebalance to complete. */
  awaitingJoin: ((r: JoinGroupResult) => void) | null;
  /** Set while the member's SyncGroup waits for the leader's assignment. */
  awaitingSync: ((r: SyncGroupResult) => void) | null;
  /** Joined in the current rebalance; its first JoinGroup is still unanswered. */
  isNew: boolean;
}

export const EMPTY_BUFFER = Buffer.alloc(0);

export class ClassicGroup {
  readonly kind = 'classic' as const;
  state: ClassicGroupState = 'Empty';
  /** When the group entered its current state (offset retention counts from becoming Empty). */
  stateTimestamp: number;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, ClassicMember>();
  /** group.instance.id -> member id of the static member that holds it. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED and not yet used to join (KIP-394). */
  readonly pendingMembers = new Set<string>();
  /** Members of the new generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** Extends the initial rebalance delay while new members keep arriving. */
  newMemberAdded = false;
  /** Key-value version of the persisted record; 0 when never written (compare-and-set base). */
  kvVersion = 0;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.stateTimestamp = now;
  }

  is(...states: ClassicGroupState[]): boolean {
    return states.includes(this.state);
  }

  transition(to: ClassicGroupState, now: number): void {
    this.state = to;
    this.stateTimestamp = now;
  }

  hasMember(memberId: string): boolean {
    return this.members.has(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  /** Members whose JoinGroup for this rebalance has arrived. */
  numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.awaitingJoin) n++;
    return n;
  }

  allMembersJoined(): boolean {
    return this.members.size === this.numAwaitingJoin() && this.pendingMembers.size === 0;
  }

  notYetRejoined(): ClassicMember[] {
    return [...this.members.values()].filter((m) => !m.awaitingJoin);
  }

  maxRebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Protocols every member supports; an empty group accepts anything. */
  candidateProtocols(): Set<string> | null {
    const all = [...this.members.values()];
    if (all.length === 0) return null;
    const out = new Set<string>(all[0]!.protocols.map((p) => p.name));
    for (const m of all.slice(1)) {
      const names = new Set<string>(m.protocols.map((p) => p.name));
      for (const n of [...out]) if (!names.has(n)) out.delete(n);
    }
    return out;
  }

  /** Whether a member with these protocols may join (same protocol type, one protocol in common). */
  supports(protocolType: string, protocols: MemberProtocol[]): boolean {
    if (protocols.length === 0 || protocolType === '') return false;
    if (this.members.size === 0) return true;
    if (this.protocolType !== protocolType) return false;
    const candidates = this.candidateProtocols()!;
    return protocols.some((p) => candidates.has(p.name));
  }

  /** Each member votes for its most preferred protocol among the candidates; the most votes wins. */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    if (!candidates || candidates.size === 0) throw new Error(`group ${this.groupId} has no protocol all members support`);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name))!.name;
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    // Ties go to the protocol listed first by the earliest member, for a stable choice.
    for (const m of this.members.values()) {
      for (const p of m.protocols) {
        const v = votes.get(p.name) ?? -1;
        if (v > bestVotes) {
          best = p.name;
          bestVotes = v;
        }
      }
    }
    return best;
  }

  metadataFor(member: ClassicMember, protocol: string | null): Buffer {
    return member.protocols.find((p) => p.name === protocol)?.metadata ?? EMPTY_BUFFER;
  }

  add(member: ClassicMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    if (this.leaderId === null) this.leaderId = member.memberId;
  }

  remove(memberId: string): ClassicMember | undefined {
    const m = this.members.get(memberId);
    if (!m) return undefined;
    this.members.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    if (m.groupInstanceId !== null && this.staticMembers.get(m.groupInstanceId) === memberId) {
      this.staticMembers.delete(m.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      // Prefer a member that already rejoined: it will get the member list in its join response.
      const next = [...this.members.values()].find((x) => x.awaitingJoin) ?? this.members.values().next().value;
      this.leaderId = next?.memberId ?? null;
    }
    return m;
  }

  /** Moves a static member's identity to a new member id (the old id is fenced). */
  replaceStaticMember(instanceId: string, oldMemberId: string, newMemberId: string): ClassicMember {
    const m = this.members.get(oldMemberId)!;
    this.members.delete(oldMemberId);
    m.memberId = newMemberId;
    this.members.set(newMemberId, m);
    this.staticMembers.set(instanceId, newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return m;
  }

  staticMemberId(instanceId: string | null): string | undefined {
    return instanceId === null ? undefined : this.staticMembers.get(instanceId);
  }
}
