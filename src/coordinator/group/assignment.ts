// Partition sets keyed by topic id, as KIP-848 assignments are expressed, with the set algebra
// reconciliation needs. Partitions are kept sorted so equal sets compare and persist equally.

export type TopicAssignment = Record<string, number[]>;

export function tpKeys(a: TopicAssignment): string[] {
  const out: string[] = [];
  for (const [t, ps] of Object.entries(a)) for (const p of ps) out.push(`${t}:${p}`);
  return out;
}

export function fromKeys(keys: Iterable<string>): TopicAssignment {
  const out: TopicAssignment = {};
  for (const k of keys) {
    const i = k.lastIndexOf(':');
    (out[k.slice(0, i)] ??= []).push(Number(k.slice(i + 1)));
  }
  for (const t of Object.keys(out)) out[t]!.sort((x, y) => x - y);
  return out;
}

export function minus(a: TopicAssignment, b: TopicAssignment): TopicAssignment {
  const drop = new Set(tpKeys(b));
  return fromKeys(tpKeys(a).filter((k) => !drop.has(k)));
}

export function intersect(a: TopicAssignment, b: TopicAssignment): TopicAssignment {
  const keep = new Set(tpKeys(b));
  return fromKeys(tpKeys(a).filter((k) => keep.has(k)));
}

export function union(a: TopicAssignment, b: TopicAssignment): TopicAssignment {
  return fromKeys(new Set([...tpKeys(a), ...tpKeys(b)]));
}

export function isEmpty(a: TopicAssignment): boolean {
  return Object.values(a).every((ps) => ps.length === 0);
}

export function sameAssignment(a: TopicAssignment, b: TopicAssignment): boolean {
  const x = tpKeys(a).sort();
  const y = tpKeys(b).sort();
  return x.length === y.length && x.every((k, i) => k === y[i]);
}

/** Whether every partition of a is in b. */
export function isSubset(a: TopicAssignment, b: TopicAssignment): boolean {
  const inB = new Set(tpKeys(b));
  return tpKeys(a).every((k) => inB.has(k));
}

export function fromTopicPartitions(list: { topicId: string; partitions: number[] }[]): TopicAssignment {
  return fromKeys(list.flatMap((t) => t.partitions.map((p) => `${t.topicId}:${p}`)));
}

export function toTopicPartitions(a: TopicAssignment): { topicId: string; partitions: number[] }[] {
  return Object.entries(a)
    .filter(([, ps]) => ps.length > 0)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([topicId, partitions]) => ({ topicId, partitions: [...partitions] }));
}
