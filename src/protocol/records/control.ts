// Control records: the single record of a control batch, written by the broker for transaction
// markers (WriteTxnMarkers / EndTxn). Clients never write them (validateBatch refuses).
//
//   key   => version int16 (0), type int16 (ControlRecordType)
//   value => for ABORT and COMMIT (EndTransactionMarker): version int16 (0), coordinatorEpoch int32

import { RecordsError } from './errors.js';

export const ControlRecordType = {
  ABORT: 0,
  COMMIT: 1,
  // KRaft types; they never appear in data partitions but are named for readable errors.
  LEADER_CHANGE: 2,
  SNAPSHOT_HEADER: 3,
  SNAPSHOT_FOOTER: 4,
  KRAFT_VERSION: 5,
  KRAFT_VOTERS: 6,
} as const;

export const CONTROL_KEY_VERSION = 0;
export const END_TXN_MARKER_VERSION = 0;
const KEY_SIZE = 4;
const END_TXN_VALUE_SIZE = 6;

export type TxnMarker = 'commit' | 'abort';

export function encodeControlKey(type: number): Buffer {
  const b = Buffer.allocUnsafe(KEY_SIZE);
  b.writeInt16BE(CONTROL_KEY_VERSION, 0);
  b.writeInt16BE(type, 2);
  return b;
}

export function encodeEndTxnMarkerValue(coordinatorEpoch: number): Buffer {
  const b = Buffer.allocUnsafe(END_TXN_VALUE_SIZE);
  b.writeInt16BE(END_TXN_MARKER_VERSION, 0);
  b.writeInt32BE(coordinatorEpoch, 2);
  return b;
}

/** The ControlRecordType of a control record key. */
export function decodeControlKey(key: Buffer | null): { version: number; type: number } {
  if (key === null || key.length < KEY_SIZE) {
    throw new RecordsError('INVALID_RECORD', `control record key must be at least ${KEY_SIZE} bytes, got ${key?.length ?? 'null'}`);
  }
  return { version: key.readInt16BE(0), type: key.readInt16BE(2) };
}

export interface EndTxnMarker {
  marker: TxnMarker;
  coordinatorEpoch: number;
}

/** Decodes a commit/abort marker; later value versions append fields, which are ignored. */
export function decodeEndTxnMarker(key: Buffer | null, value: Buffer | null): EndTxnMarker {
  const { type } = decodeControlKey(key);
  if (type !== ControlRecordType.ABORT && type !== ControlRecordType.COMMIT) {
    throw new RecordsError('INVALID_RECORD', `control record type ${type} is not a transaction marker`);
  }
  if (value === null || value.length < END_TXN_VALUE_SIZE) {
    throw new RecordsError(
      'INVALID_RECORD',
      `transaction marker value must be at least ${END_TXN_VALUE_SIZE} bytes, got ${value?.length ?? 'null'}`,
    );
  }
  const version = value.readInt16BE(0);
  if (version < 0) throw new RecordsError('INVALID_RECORD', `transaction marker value has invalid version ${version}`);
  return { marker: type === ControlRecordType.COMMIT ? 'commit' : 'abort', coordinatorEpoch: value.readInt32BE(2) };
}
