// A transactional id's state, and the transitions of Kafka's TransactionMetadata (transaction
// version 1: the producer epoch changes only on InitProducerId and on fencing). Pure: every
// transition returns the next record or a Kafka error code; the coordinator persists the record
// before acting on it, so a restart in any state resumes from what was durable.
import { ErrorCode } from '../../protocol/errors.js';

export type TxnState =
  | 'Empty'
  | 'Ongoing'
  | 'PrepareCommit'
  | 'PrepareAbort'
  | 'CompleteCommit'
  | 'CompleteAbort'
  | 'Dead'
  | 'PrepareEpochFence';

/** The states' numeric ids as Kafka's transaction log and DescribeTransactions name them. */
export const TXN_STATE_NAMES: Record<TxnState, string> = {
  Empty: 'Empty',
  Ongoing: 'Ongoing',
  PrepareCommit: 'PrepareCommit',
  PrepareAbort: 'PrepareAbort',
  CompleteCommit: 'CompleteCommit',
  CompleteAbort: 'CompleteAbort',
  Dead: 'Dead',
  PrepareEpochFence: 'PrepareEpochFence',
};

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
/** Kafka rotates the producer id before the epoch would reach Short.MAX_VALUE. */
export const MAX_PRODUCER_EPOCH = 32767;

export interface TxnPartition {
  topic: string;
  /** Resolved when added, so the produce path (which knows topic ids) can verify it. */
  topicId: string;
  partition: number;
}

export interface PendingOffset {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
}

export interface TxnRecord {
  transactionalId: string;
  producerId: bigint;
  /** The id before the last rotation (KIP-360 retries of an InitProducerId that rotated it). */
  previousProducerId: bigint;
  producerEpoch: number;
  /** The epoch before the last bump by the same producer, for retried InitProducerId (KIP-360). */
  lastProducerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  partitions: TxnPartition[];
  /** Consumer groups whose offsets the transaction commits (AddOffsetsToTxn); see staged-offsets.ts. */
  groups: string[];
  /** Wall-clock ms; -1 when no transaction has started. */
  txnStartMs: number;
  lastUpdateMs: number;
}

export type Transition = { ok: true; next: TxnRecord } | { ok: false; error: number; message: string };

const fail = (error: number, message: string): Transition => ({ ok: false, error, message });
const ok = (next: TxnRecord): Transition => ({ ok: true, next });

export function newTxnRecord(transactionalId: string, producerId: bigint, timeoutMs: number, nowMs: number): TxnRecord {
  return {
    transactionalId,
    producerId,
    previousProducerId: NO_PRODUCER_ID,
    producerEpoch: NO_PRODUCER_EPOCH,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    timeoutMs,
    state: 'Empty',
    partitions: [],
    groups: [],
    txnStartMs: -1,
    lastUpdateMs: nowMs,
  };
}

export function isEpochExhausted(r: TxnRecord): boolean {
  return r.producerEpoch >= MAX_PRODUCER_EPOCH - 1;
}

export function isComplete(state: TxnState): boolean {
  return state === 'Empty' || state === 'CompleteCommit' || state === 'CompleteAbort';
}

export interface ExpectedProducer {
  producerId: bigint;
  producerEpoch: number;
}

/**
 * InitProducerId on a transactional id. `newProducerId` is called only when the id must rotate.
 * Returns 'fence' when an open transaction must be aborted first (the client gets
 * CONCURRENT_TRANSACTIONS and retries, by which time the abort has bumped the epoch).
 */
export function prepareInitProducerId(
  r: TxnRecord,
  timeoutMs: number,
  expected: ExpectedProducer | null,
  nowMs: number,
  newProducerId: () => bigint,
): Transition | { ok: 'fence' } {
  if (expected) {
    // Fence unless the producer is the current one, a freshly migrated one (epoch -1), or a retry
    // of an InitProducerId that rotated the id and whose answer was lost.
    const valid =
      expected.producerEpoch === NO_PRODUCER_EPOCH ||
      expected.producerId === r.producerId ||
      (expected.producerId === r.previousProducerId && expected.producerEpoch === r.lastProducerEpoch);
    if (!valid) return fail(ErrorCode.PRODUCER_FENCED, `producer ${expected.producerId} epoch ${expected.producerEpoch} is not the current producer of transactional id ${r.transactionalId}`);
  }
  switch (r.state) {
    case 'PrepareAbort':
    case 'PrepareCommit':
    case 'PrepareEpochFence':
    case 'Dead':
      return fail(ErrorCode.CONCURRENT_TRANSACTIONS, `transactional id ${r.transactionalId} is completing a transaction (${r.state}); retry`);
    case 'Ongoing':
      return { ok: 'fence' };
    default:
      break;
  }
  const base = { ...r, timeoutMs, state: 'Empty' as TxnState, partitions: [], groups: [], txnStartMs: -1, lastUpdateMs: nowMs };
  // A retried InitProducerId after a rotation: answer with the current id and epoch again.
  if (expected && expected.producerId === r.previousProducerId && expected.producerId !== r.producerId) {
    return ok(base);
  }
  if (isEpochExhausted(r) && (!expected || expected.producerEpoch === r.producerEpoch)) {
    return ok({
      ...base,
      previousProducerId: r.producerId,
      producerId: newProducerId(),
      producerEpoch: 0,
      lastProducerEpoch: expected ? r.producerEpoch : NO_PRODUCER_EPOCH,
    });
  }
  const bumped = r.producerEpoch + 1;
  if (!expected) return ok({ ...base, producerEpoch: bumped, lastProducerEpoch: NO_PRODUCER_EPOCH });
  if (r.producerEpoch === NO_PRODUCER_EPOCH || expected.producerEpoch === r.producerEpoch) {
    return ok({ ...base, producerEpoch: bumped, lastProducerEpoch: r.producerEpoch });
  }
  // A retry of a bump whose answer was lost: the same epoch again, no second bump.
  if (expected.producerEpoch === r.lastProducerEpoch) return ok(base);
  return fail(ErrorCode.PRODUCER_FENCED, `producer epoch ${expected.producerEpoch} of transactional id ${r.transactionalId} was fenced by epoch ${r.producerEpoch}`);
}

/** Checks the producer id and epoch a client request carries against the record. */
function checkProducer(r: TxnRecord, producerId: bigint, producerEpoch: number): Transition | null {
  if (r.producerId !== producerId) {
    return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING, `producer id ${producerId} is not assigned to transactional id ${r.transactionalId} (current: ${r.producerId})`);
  }
  if (r.producerEpoch !== producerEpoch) {
    return fail(ErrorCode.PRODUCER_FENCED, `producer epoch ${producerEpoch} of transactional id ${r.transactionalId} was fenced by epoch ${r.producerEpoch}`);
  }
  return null;
}

/** AddPartitionsToTxn / AddOffsetsToTxn: the partitions or groups join the transaction. */
export function prepareAdd(
  r: TxnRecord,
  producerId: bigint,
  producerEpoch: number,
  add: { partitions?: TxnPartition[]; groups?: string[] },
  nowMs: number,
): Transition {
  const bad = checkProducer(r, producerId, producerEpoch);
  if (bad) return bad;
  if (r.state === 'PrepareCommit' || r.state === 'PrepareAbort' || r.state === 'PrepareEpochFence') {
    return fail(ErrorCode.CONCURRENT_TRANSACTIONS, `transactional id ${r.transactionalId} is completing its previous transaction; retry`);
  }
  if (r.state === 'Dead') return fail(ErrorCode.INVALID_TXN_STATE, `transactional id ${r.transactionalId} has expired`);
  const partitions = [...r.partitions];
  for (const p of add.partitions ?? []) {
    if (!partitions.some((q) => q.topicId === p.topicId && q.partition === p.partition)) partitions.push(p);
  }
  const groups = [...r.groups];
  for (const g of add.groups ?? []) if (!groups.includes(g)) groups.push(g);
  const starting = r.state !== 'Ongoing';
  return ok({ ...r, state: 'Ongoing', partitions, groups, txnStartMs: starting ? nowMs : r.txnStartMs, lastUpdateMs: nowMs });
}

/** Whether the transaction already holds everything in `add` (no write needed). */
export function alreadyAdded(r: TxnRecord, add: { partitions?: TxnPartition[]; groups?: string[] }): boolean {
  if (r.state !== 'Ongoing') return false;
  const parts = (add.partitions ?? []).every((p) => r.partitions.some((q) => q.topicId === p.topicId && q.partition === p.partition));
  return parts && (add.groups ?? []).every((g) => r.groups.includes(g));
}

/**
 * EndTxn from the client. `'done'` means the transaction already ended the same way (a retry):
 * answer NONE without doing anything.
 */
export function prepareEnd(r: TxnRecord, producerId: bigint, producerEpoch: number, commit: boolean, nowMs: number): Transition | { ok: 'done' } {
  const bad = checkProducer(r, producerId, producerEpoch);
  if (bad) return bad;
  const wrong = () =>
    fail(ErrorCode.INVALID_TXN_STATE, `cannot ${commit ? 'commit' : 'abort'} transactional id ${r.transactionalId} in state ${r.state}`);
  switch (r.state) {
    case 'Ongoing':
      return ok({ ...r, state: commit ? 'PrepareCommit' : 'PrepareAbort', lastUpdateMs: nowMs });
    case 'CompleteCommit':
      return commit ? { ok: 'done' } : wrong();
    case 'CompleteAbort':
      return commit ? wrong() : { ok: 'done' };
    case 'PrepareCommit':
      return commit ? fail(ErrorCode.CONCURRENT_TRANSACTIONS, 'the commit is still being written; retry') : wrong();
    case 'PrepareAbort':
      return commit ? wrong() : fail(ErrorCode.CONCURRENT_TRANSACTIONS, 'the abort is still being written; retry');
    case 'PrepareEpochFence':
      return fail(ErrorCode.CONCURRENT_TRANSACTIONS, 'the transaction is being aborted; retry');
    default:
      return wrong();
  }
}

/**
 * Aborts an open transaction from the coordinator's side (timeout, or a new producer instance):
 * bumps the epoch so the old producer is fenced, as Kafka's prepareFenceProducerEpoch does.
 */
export function prepareFenceAndAbort(r: TxnRecord, nowMs: number): TxnRecord {
  const epoch = isEpochExhausted(r) ? r.producerEpoch : r.producerEpoch + 1;
  return { ...r, producerEpoch: epoch, lastProducerEpoch: NO_PRODUCER_EPOCH, state: 'PrepareAbort', lastUpdateMs: nowMs };
}

/** After every marker is written: the transaction's final state, with its partitions cleared. */
export function complete(r: TxnRecord, nowMs: number): TxnRecord {
  if (r.state !== 'PrepareCommit' && r.state !== 'PrepareAbort') throw new Error(`cannot complete a transaction in state ${r.state}`);
  return {
    ...r,
    state: r.state === 'PrepareCommit' ? 'CompleteCommit' : 'CompleteAbort',
    partitions: [],
    groups: [],
    lastUpdateMs: nowMs,
  };
}

// Persistence: JSON with bigints as strings.

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? { $big: v.toString() } : v)));
}

export function decodeJson(buf: Buffer): unknown {
  return JSON.parse(buf.toString('utf8'), (_k, v) =>
    v !== null && typeof v === 'object' && typeof v.$big === 'string' && Object.keys(v).length === 1 ? BigInt(v.$big) : v,
  );
}

export function encodeTxnRecord(r: TxnRecord): Buffer {
  return encodeJson(r);
}

export function decodeTxnRecord(buf: Buffer): TxnRecord {
  // Records written before offsets were staged separately carry a pendingOffsets field: dropped.
  const { pendingOffsets: _old, ...r } = decodeJson(buf) as TxnRecord & { pendingOffsets?: unknown };
  return r;
}
