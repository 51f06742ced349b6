// Consumer offsets a transaction commits (TxnOffsetCommit) wait here, in the metadata store, until
// the transaction ends. TxnOffsetCommit goes to the group's coordinator and EndTxn to the
// transaction's, which may be different agents (cluster mode): the shared store is where both
// meet. Kafka keeps them as transactional records in __consumer_offsets instead.
//
// One entry per (group, transactional id), namespace `txn-offsets/<group>`, stamped with the
// transaction it belongs to (producer id, epoch, start time): the transaction coordinator applies
// an entry only when the stamp is its current transaction's, so an entry left behind by an earlier
// transaction (a crash between applying and removing it) is never applied by a later one.
import type { KeyValueStore, LeaseFence } from '../../metadata/types.js';
import { decodeJson, encodeJson, type PendingOffset } from './txn-metadata.js';

export interface TxnStamp {
  producerId: bigint;
  producerEpoch: number;
  txnStartMs: number;
}

export interface StagedOffsets extends TxnStamp {
  offsets: PendingOffset[];
}

const namespaceOf = (groupId: string) => `txn-offsets/${groupId}`;

export function sameTransaction(a: TxnStamp, b: TxnStamp): boolean {
  return a.producerId === b.producerId && a.producerEpoch === b.producerEpoch && a.txnStartMs === b.txnStartMs;
}

export class StagedOffsetStore {
  constructor(private readonly kv: KeyValueStore) {}

  /** Adds offsets to the transaction's entry for the group (a later offset for a partition wins). */
  /** `fence`: the group's coordinator shard lease (the member check was made under it). */
  async stage(groupId: string, transactionalId: string, txn: TxnStamp, offsets: PendingOffset[], fence?: LeaseFence): Promise<void> {
    const ns = namespaceOf(groupId);
    // Compare-and-set: two TxnOffsetCommits of one transaction may race (a client retry).
    for (let attempt = 0; ; attempt++) {
      const cur = await this.kv.getEntry(ns, transactionalId);
      const prev = cur ? (decodeJson(cur.value) as StagedOffsets) : null;
      const merged = prev && sameTransaction(prev, txn) ? [...prev.offsets] : [];
      for (const o of offsets) {
        const i = merged.findIndex((s) => s.topic === o.topic && s.partition === o.partition);
        if (i >= 0) merged[i] = o;
        else merged.push(o);
      }
      const value: StagedOffsets = { producerId: txn.producerId, producerEpoch: txn.producerEpoch, txnStartMs: txn.txnStartMs, offsets: merged };
      if ((await this.kv.put(ns, transactionalId, encodeJson(value), cur?.version ?? 0, fence)) !== null) return;
      if (attempt >= 5) throw new Error(`staging offsets of group ${groupId} for transaction ${transactionalId} keeps conflicting`);
    }
  }

  async get(groupId: string, transactionalId: string): Promise<StagedOffsets | null> {
    const v = await this.kv.get(namespaceOf(groupId), transactionalId);
    return v ? (decodeJson(v) as StagedOffsets) : null;
  }

  async remove(groupId: string, transactionalId: string, fence?: LeaseFence): Promise<void> {
    await this.kv.delete(namespaceOf(groupId), transactionalId, undefined, fence);
  }

  /** Every staged entry of the group, by transactional id. */
  async list(groupId: string): Promise<Array<{ transactionalId: string; staged: StagedOffsets }>> {
    return (await this.kv.list(namespaceOf(groupId))).map((e) => ({ transactionalId: e.key, staged: decodeJson(e.value) as StagedOffsets }));
  }
}
