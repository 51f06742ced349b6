// Crash recovery as a property: whatever mix of appends, syncs, rolls and torn tails happened,
// reopening yields exactly a prefix of what was acknowledged, containing everything that was synced,
// and the WAL keeps working after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { WriteAheadLog } from '../../src/wal/wal.js';
import type { WalAppend, WalRecord } from '../../src/wal/wal.js';
import { FaultFs, collect, crash, record } from './helpers.js';
import type { TornTail } from './helpers.js';

type Op = { kind: 'append'; sizes: number[] } | { kind: 'sync' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), sizes: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sync' as const }) },
);
const tailArb: fc.Arbitrary<TornTail> = fc.record({
  kind: fc.constantFrom('unsynced' as const, 'garbage' as const, 'zeros' as const),
  bytes: fc.integer({ min: 0, max: 700 }),
  seed: fc.integer(),
});
const roundArb = fc.record({ ops: fc.array(opArb, { maxLength: 12 }), tail: tailArb });

function key(r: WalAppend): string {
  return `${r.topicId}/${r.partition}/${r.baseOffset}/${r.lastOffset}/${r.leaderEpoch}/${r.data.toString('hex')}`;
}

/** Checks `got` is a prefix of `acked` at least `durable` long; returns the surviving history. */
function checkPrefix(got: WalRecord[], acked: WalAppend[], durable: number): WalAppend[] {
  assert.ok(got.length >= durable, `lost synced records: recovered ${got.length}, synced ${durable}`);
  assert.ok(got.length <= acked.length, `recovered ${got.length} records but only ${acked.length} were acknowledged`);
  got.forEach((r, i) => assert.equal(key(r), key(acked[i]), `record ${i} differs`));
  return acked.slice(0, got.length);
}

test('recovery after random crashes keeps exactly a prefix with everything synced', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(roundArb, { minLength: 1, maxLength: 3 }), fc.integer({ min: 120, max: 2500 }), async (rounds, segmentBytes) => {
      const dir = mkdtempSync(join(tmpdir(), 'sh-wal-prop-'));
      try {
        let acked: WalAppend[] = [];
        let durable = 0;
        let next = 0;
        for (const round of rounds) {
          const fs = new FaultFs();
          const wal = await WriteAheadLog.open({ dir, fs, syncMode: 'never', segmentBytes });
          acked = checkPrefix(await collect(wal.recover()), acked, durable);
          durable = acked.length; // what survived a recovery is on disk for good
          for (const op of round.ops) {
            if (op.kind === 'sync') {
              await wal.sync();
              durable = acked.length;
              continue;
            }
            const recs = op.sizes.map((size) => record(next++, size));
            await Promise.all(recs.map((r) => wal.append(r)));
            acked.push(...recs);
          }
          await fs.abandonHandles();
          crash(dir, fs, round.tail);
        }
        // A clean run after the last crash: recover, append, close, and everything is there.
        const wal = await WriteAheadLog.open({ dir, syncMode: 'never', segmentBytes });
        acked = checkPrefix(await collect(wal.recover()), acked, durable);
        const last = record(next++, 50);
        await wal.append(last);
        await wal.close();
        const final = await WriteAheadLog.open({ dir, syncMode: 'never', segmentBytes });
        const got = await collect(final.recover());
        assert.equal(final.recovery.truncations.length, 0, 'a clean close leaves nothing to repair');
        checkPrefix(got, [...acked, last], acked.length + 1);
        await final.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: 60 },
  );
});
