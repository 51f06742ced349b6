// Where each partition (or coordinator shard) should live: rendezvous hashing with bounded loads.
//
// Every agent computes the same answer from the same inputs (the keys and the live agent ids), so
// no agent has to hand out assignments. Each key ranks the agents by hash(agent, key); it goes to
// the best-ranked agent that still has room, room being ceil(keys / agents). Rendezvous ranking
// keeps moves few when an agent joins or leaves (a key moves only when its favourite changed or a
// capacity bound pushed it), and the bound keeps the counts within one of each other.

import { createHash } from 'node:crypto';

function score(agentId: string, key: string): bigint {
  return createHash('sha1').update(agentId).update('\0').update(key).digest().readBigUInt64BE(0);
}

/** The agents in the key's preference order (best first). */
export function rank(key: string, agentIds: readonly string[]): string[] {
  return agentIds
    .map((id) => ({ id, s: score(id, key) }))
    .sort((a, b) => (a.s === b.s ? (a.id < b.id ? -1 : 1) : a.s > b.s ? -1 : 1))
    .map((x) => x.id);
}

/**
 * Target owner of every key. Keys are placed in a fixed order (sorted), so the result depends only
 * on the sets of keys and agents, never on the order they were listed in.
 */
export function placeKeys(keys: readonly string[], agentIds: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (agentIds.length === 0) return out;
  const agents = [...new Set(agentIds)].sort();
  const capacity = Math.ceil(keys.length / agents.length);
  const load = new Map(agents.map((a) => [a, 0]));
  for (const key of [...new Set(keys)].sort()) {
    const owner = rank(key, agents).find((a) => load.get(a)! < capacity)!;
    load.set(owner, load.get(owner)! + 1);
    out.set(key, owner);
  }
  return out;
}

/** The placement key of a partition. */
export function partitionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}
