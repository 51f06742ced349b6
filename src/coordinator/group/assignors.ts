// Server-side assignors for KIP-848 consumer groups: "uniform" (the default; balanced and sticky)
// and "range" (co-partitioned topics get matching partition numbers). Both are pure functions
// of the members' subscriptions, the topics' partition counts and the previous target.
import { fromKeys, tpKeys, type TopicAssignment } from './assignment.js';

export interface AssignorMember {
  memberId: string;
  /** Topic ids the member subscribes to (already resolved from names or a regex). */
  topicIds: string[];
}

export interface AssignorInput {
  members: AssignorMember[];
  /** Partition count per topic id; topics missing here do not exist (yet). */
  partitionCounts: Map<string, number>;
  /** The previous target assignment, for stickiness. */
  previous: Map<string, TopicAssignment>;
}

export type Assignor = (input: AssignorInput) => Map<string, TopicAssignment>;

export const uniformAssignor: Assignor = ({ members, partitionCounts, previous }) => {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  const eligible = new Map<string, string[]>(); // partition key -> member ids that may own it
  for (const m of sorted) {
    for (const t of new Set(m.topicIds)) {
      const n = partitionCounts.get(t) ?? 0;
      for (let p = 0; p < n; p++) {
        const k = `${t}:${p}`;
        const list = eligible.get(k) ?? [];
        list.push(m.memberId);
        eligible.set(k, list);
      }
    }
  }
  const owned = new Map<string, Set<string>>(sorted.map((m) => [m.memberId, new Set<string>()]));
  const owner = new Map<string, string>();
  const give = (k: string, member: string) => {
    const before = owner.get(k);
    if (before) owned.get(before)!.delete(k);
    owner.set(k, member);
    owned.get(member)!.add(k);
  };
  // A member's fair share among the members it competes with: keep that much of what it had.
  const share = (memberId: string) => {
    const mine = [...eligible].filter(([, ms]) => ms.includes(memberId));
    const rivals = new Set(mine.flatMap(([, ms]) => ms));
    return Math.floor(mine.length / Math.max(1, rivals.size));
  };
  for (const m of sorted) {
    const quota = share(m.memberId);
    for (const k of tpKeys(previous.get(m.memberId) ?? {})) {
      if (owned.get(m.memberId)!.size >= quota) break;
      if (!owner.has(k) && eligible.get(k)?.includes(m.memberId)) give(k, m.memberId);
    }
  }
  // Then every free partition to the least-loaded eligible member, preferring its previous owner.
  const prevOwner = new Map<string, string>();
  for (const [id, a] of previous) for (const k of tpKeys(a)) prevOwner.set(k, id);
  for (const [k, ms] of eligible) {
    if (owner.has(k)) continue;
    const best = ms.reduce((a, b) => {
      const la = owned.get(a)!.size;
      const lb = owned.get(b)!.size;
      if (la !== lb) return la < lb ? a : b;
      if (prevOwner.get(k) === b) return b;
      return a;
    });
    give(k, best);
  }
  // Finally move partitions from the most to the least loaded until no pair differs by two or more.
  for (let moved = true; moved; ) {
    moved = false;
    for (const [k, ms] of eligible) {
      const from = owner.get(k)!;
      const to = ms.find((x) => owned.get(x)!.size < owned.get(from)!.size - 1);
      if (to) {
        give(k, to);
        moved = true;
      }
    }
  }
  return new Map(sorted.map((m) => [m.memberId, fromKeys(owned.get(m.memberId)!)]));
};

export const rangeAssignor: Assignor = ({ members, partitionCounts }) => {
  const out = new Map<string, Set<string>>(members.map((m) => [m.memberId, new Set<string>()]));
  const topics = new Set(members.flatMap((m) => m.topicIds));
  for (const t of topics) {
    const n = partitionCounts.get(t) ?? 0;
    const subs = members
      .filter((m) => m.topicIds.includes(t))
      .map((m) => m.memberId)
      .sort();
    if (subs.length === 0) continue;
    const base = Math.floor(n / subs.length);
    const extra = n % subs.length;
    let p = 0;
    subs.forEach((id, i) => {
      const count = base + (i < extra ? 1 : 0);
      for (let j = 0; j < count; j++) out.get(id)!.add(`${t}:${p++}`);
    });
  }
  return new Map([...out].map(([id, keys]) => [id, fromKeys(keys)]));
};

export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map([
  ['uniform', uniformAssignor],
  ['range', rangeAssignor],
]);

/** group.consumer.assignors: the first is the default. */
export const DEFAULT_ASSIGNOR = 'uniform';
