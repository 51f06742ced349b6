// The persisted form of a group, kept in the metadata store's key-value table (namespace
// "groups", key = group id). JSON, because the record is small, read once at load and easy to
// inspect; buffers (member metadata and assignments) are base64. A restart rebuilds a classic
// group as Stable (or Empty) at its generation, so members heartbeat or rejoin without a new
// rebalance, and a consumer group at its epochs with each member's assignment.
import { ClassicGroup, type ClassicMember } from './classic-group.js';
import { ConsumerGroup, type ConsumerMember } from './consumer-group.js';
import type { TopicAssignment } from './assignment.js';

export type Group = ClassicGroup | ConsumerGroup;

interface ClassicRecord {
  kind: 'classic';
  version: 1;
  protocolType: string | null;
  protocolName: string | null;
  generationId: number;
  leaderId: string | null;
  stateTimestamp: number;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocolType: string;
    protocols: { name: string; metadata: string }[];
    assignment: string;
  }[];
}

interface ConsumerRecord {
  kind: 'consumer';
  version: 1;
  groupEpoch: number;
  assignmentEpoch: number;
  subscriptionMetadata: string;
  stateTimestamp: number;
  members: ConsumerMember[];
  target: Record<string, TopicAssignment>;
}

export function encodeGroup(g: Group): Buffer {
  let rec: ClassicRecord | ConsumerRecord;
  if (g.kind === 'classic') {
    rec = {
      kind: 'classic',
      version: 1,
      protocolType: g.protocolType,
      protocolName: g.protocolName,
      generationId: g.generationId,
      leaderId: g.leaderId,
      stateTimestamp: g.stateTimestamp,
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        protocolType: m.protocolType,
        protocols: m.protocols.map((p) => ({ name: p.name, metadata: p.metadata.toString('base64') })),
        assignment: m.assignment.toString('base64'),
      })),
    };
  } else {
    rec = {
      kind: 'consumer',
      version: 1,
      groupEpoch: g.groupEpoch,
      assignmentEpoch: g.assignmentEpoch,
      subscriptionMetadata: g.subscriptionMetadata,
      stateTimestamp: g.stateTimestamp,
      members: [...g.members.values()],
      target: Object.fromEntries(g.targetAssignment),
    };
  }
  return Buffer.from(JSON.stringify(rec));
}

/** Rebuilds a group; `kvVersion` is the row's version so later writes can compare-and-set. */
export function decodeGroup(groupId: string, value: Buffer, kvVersion: number, now: number): Group {
  const rec = JSON.parse(value.toString('utf8')) as ClassicRecord | ConsumerRecord;
  if (rec.kind === 'classic') {
    const g = new ClassicGroup(groupId, rec.stateTimestamp ?? now);
    g.protocolType = rec.protocolType;
    g.protocolName = rec.protocolName;
    g.generationId = rec.generationId;
    for (const m of rec.members) {
      const member: ClassicMember = {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        protocolType: m.protocolType,
        protocols: m.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata, 'base64') })),
        assignment: Buffer.from(m.assignment, 'base64'),
        awaitingJoin: null,
        awaitingSync: null,
        isNew: false,
      };
      g.add(member);
    }
    g.leaderId = rec.leaderId !== null && g.members.has(rec.leaderId) ? rec.leaderId : g.leaderId;
    g.state = g.members.size > 0 ? 'Stable' : 'Empty';
    g.kvVersion = kvVersion;
    return g;
  }
  if (rec.kind === 'consumer') {
    const g = new ConsumerGroup(groupId, rec.stateTimestamp ?? now);
    g.groupEpoch = rec.groupEpoch;
    g.assignmentEpoch = rec.assignmentEpoch;
    g.subscriptionMetadata = rec.subscriptionMetadata;
    for (const m of rec.members) g.add(m);
    for (const [id, a] of Object.entries(rec.target)) g.targetAssignment.set(id, a);
    g.kvVersion = kvVersion;
    return g;
  }
  throw new Error(`group ${groupId}: unknown record kind ${(rec as { kind: unknown }).kind}`);
}
