import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeKeys } from '../../src/cluster/placement.js';

const keys = (n: number) => Array.from({ length: n }, (_, i) => `topic-${i % 7}:${i}`);
const counts = (m: Map<string, string>) => {
  const c = new Map<string, number>();
  for (const a of m.values()) c.set(a, (c.get(a) ?? 0) + 1);
  return c;
};
const moves = (a: Map<string, string>, b: Map<string, string>) => [...a].filter(([k, v]) => b.get(k) !== v).length;

test('every key gets exactly one of the live agents, and no agent holds more than its fair share', () => {
  for (const [n, agents] of [[1, ['a']], [10, ['a', 'b', 'c']], [61, ['a', 'b', 'c', 'd']], [2, ['a', 'b', 'c']]] as const) {
    const m = placeKeys(keys(n), agents);
    assert.equal(m.size, n);
    for (const v of m.values()) assert.ok(agents.includes(v as never));
    const c = [...counts(m).values()];
    assert.ok(Math.max(...c) <= Math.ceil(n / agents.length), `unbalanced: ${c}`);
  }
});

test('one agent gets everything', () => {
  const m = placeKeys(keys(20), ['solo']);
  assert.deepEqual([...new Set(m.values())], ['solo']);
});

test('the result does not depend on the order of keys or agents', () => {
  const a = placeKeys(keys(50), ['x', 'y', 'z']);
  const b = placeKeys(keys(50).reverse(), ['z', 'x', 'y']);
  assert.deepEqual([...a].sort(), [...b].sort());
});

test('an agent joining or leaving moves a bounded number of keys', () => {
  const n = 120;
  const three = placeKeys(keys(n), ['a', 'b', 'c']);
  const four = placeKeys(keys(n), ['a', 'b', 'c', 'd']);
  // The newcomer takes its fair share (n/4 = 30); a little more may move to keep the bound.
  const joined = moves(three, four);
  assert.ok(joined >= 30 && joined <= 45, `join moved ${joined} of ${n}`);
  const two = placeKeys(keys(n), ['a', 'b']);
  // The leaver's 40 keys must move; the rest should mostly stay.
  const left = moves(three, two);
  assert.ok(left >= 40 && left <= 60, `leave moved ${left} of ${n}`);
  for (const [k, v] of three) if (v === 'c') assert.notEqual(two.get(k), 'c');
});
