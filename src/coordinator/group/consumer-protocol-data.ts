// The "consumer" protocol type's member metadata and assignments inside JoinGroup/SyncGroup:
// ConsumerProtocolSubscription and ConsumerProtocolAssignment bodies behind an int16 version.
// The coordinator reads subscriptions only to know which topics a classic group consumes
// (OffsetDelete, offset expiry); newer versions than the codec knows decode as the newest known,
// which Kafka's compatibility rules for these messages allow.
import { Reader, Writer } from '../../protocol/primitives.js';
import {
  ConsumerProtocolAssignmentMessage,
  ConsumerProtocolSubscriptionMessage,
  type ConsumerProtocolAssignment,
  type ConsumerProtocolSubscription,
} from '../../protocol/generated/index.js';

export function decodeSubscription(buf: Buffer): ConsumerProtocolSubscription | null {
  if (buf.length < 2) return null;
  const r = new Reader(buf);
  const version = Math.min(r.int16(), ConsumerProtocolSubscriptionMessage.validVersions.max);
  if (version < 0) return null;
  const s = ConsumerProtocolSubscriptionMessage.decode(r, version);
  return r.error === null ? s : null;
}

export function encodeSubscription(s: ConsumerProtocolSubscription, version = 3): Buffer {
  const w = new Writer();
  w.int16(version);
  ConsumerProtocolSubscriptionMessage.encode(w, s, version);
  return Buffer.from(w.finish());
}

export function decodeAssignment(buf: Buffer): ConsumerProtocolAssignment | null {
  if (buf.length < 2) return null;
  const r = new Reader(buf);
  const version = Math.min(r.int16(), ConsumerProtocolAssignmentMessage.validVersions.max);
  if (version < 0) return null;
  const a = ConsumerProtocolAssignmentMessage.decode(r, version);
  return r.error === null ? a : null;
}

export function encodeAssignment(a: ConsumerProtocolAssignment, version = 3): Buffer {
  const w = new Writer();
  w.int16(version);
  ConsumerProtocolAssignmentMessage.encode(w, a, version);
  return Buffer.from(w.finish());
}
