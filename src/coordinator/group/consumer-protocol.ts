// The KIP-848 consumer group protocol: ConsumerGroupHeartbeat with server-side assignors.
// The group epoch goes up when members or subscriptions (or the subscribed topics' partition
// counts) change; the target assignment is recomputed for that epoch; each member then
// converges on its target one heartbeat at a time: partitions it must give up are revoked
// first (its epoch stays), and only after it confirms does it move to the new epoch and get
// partitions, and only those no other member still holds.
import { randomUUID } from 'node:crypto';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { Logger } from '../../observability/logger.js';
import type { TopicRecord } from '../../metadata/types.js';
import { ASSIGNORS, DEFAULT_ASSIGNOR } from './assignors.js';
import { fromKeys, intersect, isEmpty, isSubset, minus, sameAssignment, tpKeys, union, type TopicAssignment } from './assignment.js';
import { ConsumerGroup, type ConsumerMember } from './consumer-group.js';
import type { GroupCoordinatorConfig } from './config.js';
import type { GroupRegistry } from './group-registry.js';
import type { CoordinatorTimer } from './timer.js';

export interface ConsumerHeartbeatInput {
  apiVersion: number;
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  /** What the member owns now; null when unchanged since its last heartbeat. */
  ownedTopicPartitions: TopicAssignment | null;
  clientId: string;
  clientHost: string;
}

export interface ConsumerHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: TopicAssignment | null;
}

export interface ConsumerGroupHost {
  readonly registry: GroupRegistry;
  /** An existing consumer group, or a new one when `create`; throws KafkaError for a busy classic group. */
  consumerGroup(groupId: string, create: boolean): ConsumerGroup | undefined;
}

const LEAVE_EPOCH = -1;
const STATIC_LEAVE_EPOCH = -2;

export class ConsumerGroupProtocol {
  constructor(
    private readonly host: ConsumerGroupHost,
    private readonly timer: CoordinatorTimer,
    private readonly config: GroupCoordinatorConfig,
    private readonly log: Logger,
  ) {}

  async heartbeat(req: ConsumerHeartbeatInput, topics: TopicRecord[]): Promise<ConsumerHeartbeatResult> {
    try {
      return await this.handle(req, topics);
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      return { errorCode: err.code, errorMessage: err.message, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
    }
  }

  private async handle(req: ConsumerHeartbeatInput, topics: TopicRecord[]): Promise<ConsumerHeartbeatResult> {
    this.validate(req);
    const group = this.host.consumerGroup(req.groupId, req.memberEpoch === 0);
    if (!group) throw new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, `member ${req.memberId} is not in group ${req.groupId}`);

    if (req.memberEpoch === LEAVE_EPOCH || req.memberEpoch === STATIC_LEAVE_EPOCH) return this.leave(group, req);

    let member: ConsumerMember;
    let bump = false;
    if (req.memberEpoch === 0) {
      ({ member, bump } = this.joinMember(group, req));
    } else {
      const m = group.members.get(req.memberId);
      if (!m) throw new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, `member ${req.memberId} is not in group ${req.groupId}`);
      this.checkEpoch(m, req);
      member = m;
    }
    bump = this.updateMember(member, req) || bump;

    const byName = new Map(topics.map((t) => [t.name, t]));
    const metadata = subscriptionMetadata(group, byName);
    if (metadata !== group.subscriptionMetadata) {
      group.subscriptionMetadata = metadata;
      bump = true;
    }
    if (bump) group.groupEpoch++;
    if (group.groupEpoch > group.assignmentEpoch) this.computeTarget(group, byName);

    const epochBefore = member.memberEpoch;
    const changed = this.reconcile(group, member, req.ownedTopicPartitions);
    this.scheduleSession(group, member);
    await this.host.registry.persist(group);

    const owned = req.ownedTopicPartitions;
    const send = changed || req.memberEpoch === 0 || epochBefore !== member.memberEpoch || (owned !== null && !sameAssignment(owned, member.assigned));
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.config.consumerHeartbeatIntervalMs,
      assignment: send ? member.assigned : null,
    };
  }

  private validate(req: ConsumerHeartbeatInput): void {
    const invalid = (msg: string) => new KafkaError(ErrorCode.INVALID_REQUEST, msg);
    if (req.groupId === '') throw invalid('GroupId can not be empty.');
    if (req.memberEpoch < STATIC_LEAVE_EPOCH) throw invalid(`MemberEpoch ${req.memberEpoch} is not valid.`);
    if (req.memberEpoch !== 0 && req.memberId === '') throw invalid('MemberId can not be empty.');
    if (req.memberEpoch === 0) {
      if (req.apiVersion >= 1 && req.memberId === '') throw invalid('MemberId can not be empty: the client generates it (KIP-1082).');
      if (req.rebalanceTimeoutMs < 0) throw invalid('RebalanceTimeoutMs must be provided in the first request.');
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null) {
        throw invalid('SubscribedTopicNames or SubscribedTopicRegex must be set in the first request.');
      }
      if (req.ownedTopicPartitions === null || !isEmpty(req.ownedTopicPartitions)) {
        throw invalid('TopicPartitions must be empty when (re-)joining.');
      }
    }
    if (req.serverAssignor !== null && !ASSIGNORS.has(req.serverAssignor)) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_ASSIGNOR, `ServerAssignor ${req.serverAssignor} is not supported; use one of ${[...ASSIGNORS.keys()].join(', ')}.`);
    }
    if (req.subscribedTopicRegex !== null) compileRegex(req.subscribedTopicRegex);
  }

  private joinMember(group: ConsumerGroup, req: ConsumerHeartbeatInput): { member: ConsumerMember; bump: boolean } {
    const memberId = req.memberId !== '' ? req.memberId : randomUUID();
    const fresh: ConsumerMember = {
      memberId,
      instanceId: req.instanceId,
      rackId: req.rackId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      memberEpoch: 0,
      previousMemberEpoch: 0,
      state: 'stable',
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      subscribedTopicNames: [],
      subscribedTopicRegex: null,
      serverAssignor: null,
      assigned: {},
      pendingRevocation: {},
    };
    if (req.instanceId !== null) {
      const oldId = group.staticMembers.get(req.instanceId);
      const old = oldId !== undefined ? group.members.get(oldId) : undefined;
      if (old && old.memberEpoch !== STATIC_LEAVE_EPOCH && old.memberId !== memberId) {
        throw new KafkaError(ErrorCode.UNRELEASED_INSTANCE_ID, `instance id ${req.instanceId} is still used by member ${old.memberId}`);
      }
      if (old) {
        // The restarted static member takes over the old one's assignment and epoch: no rebalance.
        this.cancelTimers(group, old.memberId);
        group.remove(old.memberId);
        const target = group.targetAssignment.get(old.memberId);
        const taken: ConsumerMember = { ...old, memberId, memberEpoch: old.previousMemberEpoch, clientId: req.clientId, clientHost: req.clientHost };
        group.add(taken);
        if (target) group.targetAssignment.set(memberId, target);
        return { member: taken, bump: false };
      }
    }
    const existing = group.members.get(memberId);
    if (existing) {
      // A member rejoining with epoch 0 starts over: what it held is released.
      this.cancelTimers(group, memberId);
      group.remove(memberId);
    } else if (group.members.size >= this.config.consumerMaxSize) {
      throw new KafkaError(ErrorCode.GROUP_MAX_SIZE_REACHED, `group ${group.groupId} has reached its maximum size of ${this.config.consumerMaxSize}`);
    }
    group.add(fresh);
    return { member: fresh, bump: true };
  }

  private checkEpoch(m: ConsumerMember, req: ConsumerHeartbeatInput): void {
    if (req.memberEpoch === m.memberEpoch) return;
    const owned = req.ownedTopicPartitions;
    // A member whose last response was lost may still be one epoch behind: tolerated when what it
    // owns is part of what it was given.
    if (req.memberEpoch < m.memberEpoch && req.memberEpoch === m.previousMemberEpoch && owned !== null && isSubset(owned, m.assigned)) return;
    throw new KafkaError(ErrorCode.FENCED_MEMBER_EPOCH, `member epoch ${req.memberEpoch} is fenced; the current epoch of ${m.memberId} is ${m.memberEpoch}`);
  }

  /** Applies the request's fields; true when the subscription changed (the group epoch must go up). */
  private updateMember(m: ConsumerMember, req: ConsumerHeartbeatInput): boolean {
    let changed = false;
    if (req.rebalanceTimeoutMs >= 0) m.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    if (req.rackId !== null) m.rackId = req.rackId;
    m.clientId = req.clientId;
    m.clientHost = req.clientHost;
    if (req.subscribedTopicNames !== null) {
      const names = [...new Set(req.subscribedTopicNames)].sort();
      if (names.join('\n') !== m.subscribedTopicNames.join('\n')) {
        m.subscribedTopicNames = names;
        changed = true;
      }
    }
    if (req.subscribedTopicRegex !== null) {
      const regex = req.subscribedTopicRegex === '' ? null : req.subscribedTopicRegex;
      if (regex !== m.subscribedTopicRegex) {
        m.subscribedTopicRegex = regex;
        changed = true;
      }
    }
    if (req.serverAssignor !== null && req.serverAssignor !== m.serverAssignor) {
      m.serverAssignor = req.serverAssignor;
      changed = true;
    }
    return changed;
  }

  private computeTarget(group: ConsumerGroup, byName: Map<string, TopicRecord>): void {
    const assignorName = group.preferredAssignor(DEFAULT_ASSIGNOR);
    const assignor = ASSIGNORS.get(assignorName)!;
    const partitionCounts = new Map<string, number>();
    const members = [...group.members.values()].map((m) => {
      const topicIds = subscribedTopics(m, byName).map((t) => {
        partitionCounts.set(t.id, t.partitions);
        return t.id;
      });
      return { memberId: m.memberId, topicIds };
    });
    const target = assignor({ members, partitionCounts, previous: new Map(group.targetAssignment) });
    group.targetAssignment.clear();
    for (const [id, a] of target) group.targetAssignment.set(id, a);
    group.assignmentEpoch = group.groupEpoch;
    this.log.debug({ groupId: group.groupId, epoch: group.groupEpoch, assignor: assignorName }, 'computed target assignment');
  }

  /** Moves the member one step towards its target; true when its assignment or epoch changed. */
  private reconcile(group: ConsumerGroup, m: ConsumerMember, owned: TopicAssignment | null): boolean {
    const target = group.targetAssignment.get(m.memberId) ?? {};
    if (m.state === 'unrevoked_partitions') {
      const stillOwned = owned === null ? m.pendingRevocation : intersect(owned, m.pendingRevocation);
      if (!isEmpty(stillOwned)) {
        const extra = minus(m.assigned, target);
        if (isEmpty(extra)) return false;
        m.assigned = intersect(m.assigned, target);
        m.pendingRevocation = union(m.pendingRevocation, extra);
        return true;
      }
      m.pendingRevocation = {};
      m.state = 'stable';
      this.timer.cancel(revokeKey(group, m.memberId));
    }
    if (m.memberEpoch === group.assignmentEpoch && m.state === 'stable') return false;
    const revoke = minus(m.assigned, target);
    if (!isEmpty(revoke)) {
      m.assigned = intersect(m.assigned, target);
      m.pendingRevocation = revoke;
      m.state = 'unrevoked_partitions';
      const memberId = m.memberId;
      this.timer.schedule(revokeKey(group, memberId), m.rebalanceTimeoutMs, () => {
        const cur = group.members.get(memberId);
        if (cur !== m || cur.state !== 'unrevoked_partitions') return;
        this.log.info({ groupId: group.groupId, memberId }, 'member did not revoke its partitions within the rebalance timeout; fencing it');
        this.fence(group, memberId);
      });
      return true;
    }
    const heldByOthers = new Set<string>();
    for (const o of group.members.values()) {
      if (o === m) continue;
      for (const k of tpKeys(o.assigned)) heldByOthers.add(k);
      for (const k of tpKeys(o.pendingRevocation)) heldByOthers.add(k);
    }
    const free = fromKeys(tpKeys(minus(target, m.assigned)).filter((k) => !heldByOthers.has(k)));
    const next = union(m.assigned, free);
    const changed = !sameAssignment(next, m.assigned) || m.memberEpoch !== group.assignmentEpoch;
    m.assigned = next;
    if (m.memberEpoch !== group.assignmentEpoch) {
      m.previousMemberEpoch = m.memberEpoch;
      m.memberEpoch = group.assignmentEpoch;
    }
    m.state = sameAssignment(m.assigned, target) ? 'stable' : 'unreleased_partitions';
    return changed;
  }

  private async leave(group: ConsumerGroup, req: ConsumerHeartbeatInput): Promise<ConsumerHeartbeatResult> {
    const byInstance = req.instanceId !== null ? group.staticMembers.get(req.instanceId) : undefined;
    const memberId = byInstance ?? req.memberId;
    const m = group.members.get(memberId);
    if (!m) throw new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID, `member ${req.memberId} is not in group ${req.groupId}`);
    if (byInstance !== undefined && req.memberId !== byInstance) {
      throw new KafkaError(ErrorCode.FENCED_INSTANCE_ID, `instance id ${req.instanceId} belongs to member ${byInstance}`);
    }
    if (req.memberEpoch === STATIC_LEAVE_EPOCH && m.instanceId !== null) {
      // A static member that leaves temporarily keeps its partitions until its session expires.
      m.previousMemberEpoch = m.memberEpoch;
      m.memberEpoch = STATIC_LEAVE_EPOCH;
      this.scheduleSession(group, m);
    } else {
      this.cancelTimers(group, memberId);
      group.remove(memberId);
      group.groupEpoch++;
    }
    await this.host.registry.persist(group);
    return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: req.memberId, memberEpoch: req.memberEpoch, heartbeatIntervalMs: 0, assignment: null };
  }

  /** Removes a member that stopped heartbeating or revoking; the others rebalance. */
  fence(group: ConsumerGroup, memberId: string): void {
    this.cancelTimers(group, memberId);
    if (!group.remove(memberId)) return;
    group.groupEpoch++;
    this.host.registry.persist(group).catch((err) => this.log.warn({ err, groupId: group.groupId }, 'storing the group failed'));
  }

  scheduleSession(group: ConsumerGroup, m: ConsumerMember): void {
    const memberId = m.memberId;
    this.timer.schedule(sessionKey(group, memberId), this.config.consumerSessionTimeoutMs, () => {
      if (group.members.get(memberId) !== m) return;
      this.log.info({ groupId: group.groupId, memberId }, 'member session expired; removing it');
      this.fence(group, memberId);
    });
  }

  /** Starts the session timers of a group loaded from the store. */
  resume(group: ConsumerGroup): void {
    for (const m of group.members.values()) this.scheduleSession(group, m);
  }

  cancelTimers(group: ConsumerGroup, memberId: string): void {
    this.timer.cancel(sessionKey(group, memberId));
    this.timer.cancel(revokeKey(group, memberId));
  }
}

export function compileRegex(source: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw new KafkaError(ErrorCode.INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex ${source} is not a valid regular expression: ${(err as Error).message}`);
  }
}

function subscribedTopics(m: ConsumerMember, byName: Map<string, TopicRecord>): TopicRecord[] {
  const out = new Map<string, TopicRecord>();
  for (const n of m.subscribedTopicNames) {
    const t = byName.get(n);
    if (t) out.set(t.name, t);
  }
  if (m.subscribedTopicRegex !== null) {
    const re = compileRegex(m.subscribedTopicRegex);
    for (const t of byName.values()) if (re.test(t.name)) out.set(t.name, t);
  }
  return [...out.values()];
}

/** The subscribed topics as they exist now; a change (created, grown, recreated) means a new epoch. */
function subscriptionMetadata(group: ConsumerGroup, byName: Map<string, TopicRecord>): string {
  const seen = new Map<string, TopicRecord>();
  for (const m of group.members.values()) for (const t of subscribedTopics(m, byName)) seen.set(t.name, t);
  return [...seen.values()]
    .map((t) => `${t.name}:${t.id}:${t.partitions}`)
    .sort()
    .join(',');
}

const sessionKey = (g: ConsumerGroup, memberId: string) => `consumer:${g.groupId}:session:${memberId}`;
const revokeKey = (g: ConsumerGroup, memberId: string) => `consumer:${g.groupId}:revoke:${memberId}`;
