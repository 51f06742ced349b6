// The classic group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) as Kafka 4.x runs it:
// generations, MEMBER_ID_REQUIRED for new dynamic members (KIP-394), the initial rebalance
// delay, session and rebalance timeouts, and static membership (KIP-345: a known
// group.instance.id that rejoins takes its old place without a rebalance; the replaced member
// id is fenced with FENCED_INSTANCE_ID). Client-side assignors (eager or cooperative-sticky)
// need nothing special here: cooperative clients simply rejoin after revoking.
// Everything runs synchronously on the event loop; only persistence is asynchronous.
import { randomUUID } from 'node:crypto';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { Logger } from '../../observability/logger.js';
import {
  ClassicGroup,
  EMPTY_BUFFER,
  type ClassicMember,
  type JoinGroupResult,
  type MemberProtocol,
  type SyncGroupResult,
} from './classic-group.js';
import type { GroupCoordinatorConfig } from './config.js';
import type { GroupRegistry } from './group-registry.js';
import type { CoordinatorTimer } from './timer.js';

export interface JoinGroupInput {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  /** -1 (JoinGroup v0) means "the session timeout". */
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: MemberProtocol[];
  clientId: string;
  clientHost: string;
  /** JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
}

export interface SyncGroupInput {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface HeartbeatInput {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeavingMember {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

/** Where the classic protocol finds groups; the coordinator decides which group ids it owns. */
export interface ClassicGroupHost {
  readonly registry: GroupRegistry;
  /** An existing classic group, or a new empty one; throws KafkaError when the id is a busy consumer group. */
  classicGroupForJoin(groupId: string): ClassicGroup;
}

export class ClassicGroupProtocol {
  constructor(
    private readonly host: ClassicGroupHost,
    private readonly timer: CoordinatorTimer,
    private readonly config: GroupCoordinatorConfig,
    private readonly log: Logger,
  ) {}

  // ---- JoinGroup -------------------------------------------------------------------------

  join(input: JoinGroupInput): Promise<JoinGroupResult> {
    const fail = (code: number, memberId = input.memberId) => Promise.resolve(joinError(code, memberId));
    if (input.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    if (input.sessionTimeoutMs < this.config.minSessionTimeoutMs || input.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    const existing = this.host.registry.get(input.groupId);
    if (!existing && input.memberId !== '') return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    let group: ClassicGroup;
    try {
      group = this.host.classicGroupForJoin(input.groupId);
    } catch (err) {
      if (err instanceof KafkaError) return fail(err.code);
      throw err;
    }
    if (group.is('Dead')) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (!group.supports(input.protocolType, input.protocols)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const rebalanceTimeoutMs = input.rebalanceTimeoutMs < 0 ? input.sessionTimeoutMs : input.rebalanceTimeoutMs;
    const req = { ...input, rebalanceTimeoutMs };
    return input.memberId === '' ? this.joinNewMember(group, req) : this.joinKnownMember(group, req);
  }

  private joinNewMember(group: ClassicGroup, req: JoinGroupInput): Promise<JoinGroupResult> {
    if (group.members.size >= this.config.maxGroupSize) {
      return Promise.resolve(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, ''));
    }
    const memberId = `${req.groupInstanceId ?? req.clientId}-${randomUUID()}`;
    if (req.groupInstanceId !== null) {
      const old = group.staticMemberId(req.groupInstanceId);
      if (old !== undefined) return this.replaceStaticMember(group, old, memberId, req);
      return this.addMemberAndRebalance(group, memberId, req);
    }
    if (req.requireKnownMemberId) {
      // KIP-394: the member id is only admitted once the client comes back with it, so a client
      // that never does (it crashed, or timed out) does not hold up the rebalance for long.
      group.pendingMembers.add(memberId);
      this.timer.schedule(pendingKey(group, memberId), req.sessionTimeoutMs, () => {
        if (group.pendingMembers.delete(memberId) && group.is('PreparingRebalance')) this.tryCompleteJoin(group);
      });
      return Promise.resolve(joinError(ErrorCode.MEMBER_ID_REQUIRED, memberId));
    }
    return this.addMemberAndRebalance(group, memberId, req);
  }

  private joinKnownMember(group: ClassicGroup, req: JoinGroupInput): Promise<JoinGroupResult> {
    if (group.pendingMembers.has(req.memberId)) {
      group.pendingMembers.delete(req.memberId);
      this.timer.cancel(pendingKey(group, req.memberId));
      return this.addMemberAndRebalance(group, req.memberId, req);
    }
    const err = this.validateMember(group, req.memberId, req.groupInstanceId);
    if (err !== ErrorCode.NONE) return Promise.resolve(joinError(err, req.memberId));
    const member = group.members.get(req.memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, req);
      case 'CompletingRebalance':
        // The member may have missed the join response; same protocols means answer it again.
        if (sameProtocols(member.protocols, req.protocols)) return Promise.resolve(this.currentJoinResult(group, member));
        return this.updateMemberAndRebalance(group, member, req);
      case 'Stable':
        if (group.isLeader(member.memberId) || !sameProtocols(member.protocols, req.protocols)) {
          return this.updateMemberAndRebalance(group, member, req);
        }
        this.scheduleHeartbeat(group, member);
        return Promise.resolve(this.currentJoinResult(group, member));
      default:
        return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
    }
  }

  private addMemberAndRebalance(group: ClassicGroup, memberId: string, req: JoinGroupInput): Promise<JoinGroupResult> {
    return new Promise((resolve) => {
      const member: ClassicMember = {
        memberId,
        groupInstanceId: req.groupInstanceId,
        clientId: req.clientId,
        clientHost: req.clientHost,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        sessionTimeoutMs: req.sessionTimeoutMs,
        protocolType: req.protocolType,
        protocols: req.protocols,
        assignment: EMPTY_BUFFER,
        awaitingJoin: resolve,
        awaitingSync: null,
        isNew: true,
      };
      if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
      group.add(member);
      this.scheduleHeartbeat(group, member);
      this.maybePrepareRebalance(group, `member ${memberId} joined`);
    });
  }

  private updateMemberAndRebalance(group: ClassicGroup, member: ClassicMember, req: JoinGroupInput): Promise<JoinGroupResult> {
    return new Promise((resolve) => {
      // A second JoinGroup while the first is parked replaces it; the first is told to rejoin.
      member.awaitingJoin?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
      member.protocols = req.protocols;
      member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
      member.sessionTimeoutMs = req.sessionTimeoutMs;
      member.clientId = req.clientId;
      member.clientHost = req.clientHost;
      member.awaitingJoin = resolve;
      this.scheduleHeartbeat(group, member);
      this.maybePrepareRebalance(group, `member ${member.memberId} rejoined`);
    });
  }

  /** KIP-345: a restarted static member takes its old member's place under a new member id. */
  private async replaceStaticMember(group: ClassicGroup, oldId: string, newId: string, req: JoinGroupInput): Promise<JoinGroupResult> {
    const old = group.members.get(oldId)!;
    const instanceId = req.groupInstanceId!;
    const before = { protocols: old.protocols, rebalanceTimeoutMs: old.rebalanceTimeoutMs, sessionTimeoutMs: old.sessionTimeoutMs };
    old.awaitingJoin?.(joinError(ErrorCode.FENCED_INSTANCE_ID, oldId));
    old.awaitingJoin = null;
    old.awaitingSync?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    old.awaitingSync = null;
    this.timer.cancel(heartbeatKey(group, oldId));
    const member = group.replaceStaticMember(instanceId, oldId, newId);
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    this.scheduleHeartbeat(group, member);
    switch (group.state) {
      case 'Stable': {
        if (group.selectProtocol() !== group.protocolName) return this.updateMemberAndRebalance(group, member, req);
        const generation = group.generationId;
        try {
          await this.host.registry.persist(group);
        } catch (err) {
          // Put the old identity back so the group stays as the store knows it.
          if (group.members.get(newId) === member && group.generationId === generation) {
            group.replaceStaticMember(instanceId, newId, oldId);
            Object.assign(member, before);
          }
          return joinError(err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR, '');
        }
        const result = this.currentJoinResult(group, member);
        // KIP-814: a static leader that rejoins gets the members but must not reassign.
        result.skipAssignment = group.isLeader(newId);
        return result;
      }
      case 'CompletingRebalance':
        // The leader may be assigning to the old member id; only a new rebalance is consistent.
        return this.updateMemberAndRebalance(group, member, req);
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, req);
      default:
        return joinError(ErrorCode.UNKNOWN_MEMBER_ID, newId);
    }
  }

  private currentJoinResult(group: ClassicGroup, member: ClassicMember): JoinGroupResult {
    const leader = group.isLeader(member.memberId);
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      skipAssignment: false,
      members: leader ? this.memberList(group) : [],
    };
  }

  private memberList(group: ClassicGroup): JoinGroupResult['members'] {
    return [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: group.metadataFor(m, group.protocolName),
    }));
  }

  // ---- rebalance -------------------------------------------------------------------------

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is('Stable', 'CompletingRebalance', 'Empty')) this.prepareRebalance(group, reason);
    else if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is('CompletingRebalance')) this.resetAssignments(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.timer.cancel(syncKey(group));
    group.pendingSyncMembers.clear();
    const initial = group.is('Empty');
    group.transition('PreparingRebalance', this.timer.now());
    this.log.debug({ groupId: group.groupId, generation: group.generationId, reason }, 'preparing to rebalance group');
    const maxTimeout = group.maxRebalanceTimeoutMs();
    if (initial && this.config.initialRebalanceDelayMs > 0) {
      // group.initial.rebalance.delay.ms: wait for more members before the first generation,
      // extending the wait while members keep arriving, but never beyond the rebalance timeout.
      const delay = Math.min(this.config.initialRebalanceDelayMs, maxTimeout);
      group.newMemberAdded = false;
      this.scheduleInitialDelay(group, delay, maxTimeout - delay);
      return;
    }
    this.timer.schedule(joinKey(group), maxTimeout, () => this.completeJoin(group));
    this.tryCompleteJoin(group);
  }

  private scheduleInitialDelay(group: ClassicGroup, delay: number, remaining: number): void {
    this.timer.schedule(initialKey(group), delay, () => {
      if (group.newMemberAdded && remaining > 0) {
        group.newMemberAdded = false;
        const next = Math.min(this.config.initialRebalanceDelayMs, remaining);
        this.scheduleInitialDelay(group, next, remaining - next);
      } else {
        this.completeJoin(group);
      }
    });
  }

  private tryCompleteJoin(group: ClassicGroup): void {
    if (!group.is('PreparingRebalance') || this.timer.isScheduled(initialKey(group))) return;
    if (group.allMembersJoined()) this.completeJoin(group);
  }

  private completeJoin(group: ClassicGroup): void {
    if (!group.is('PreparingRebalance')) return;
    this.timer.cancel(joinKey(group));
    this.timer.cancel(initialKey(group));
    for (const m of group.notYetRejoined()) {
      this.log.info({ groupId: group.groupId, memberId: m.memberId }, 'member did not rejoin within the rebalance timeout; removing it');
      this.timer.cancel(heartbeatKey(group, m.memberId));
      group.remove(m.memberId);
    }
    const now = this.timer.now();
    group.generationId++;
    if (group.members.size === 0) {
      group.protocolName = null;
      group.transition('Empty', now);
      this.persistInBackground(group);
      return;
    }
    group.protocolName = group.selectProtocol();
    group.transition('CompletingRebalance', now);
    for (const m of group.members.values()) {
      const reply = m.awaitingJoin!;
      m.awaitingJoin = null;
      m.isNew = false;
      group.pendingSyncMembers.add(m.memberId);
      reply({
        errorCode: ErrorCode.NONE,
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: group.leaderId ?? '',
        memberId: m.memberId,
        skipAssignment: false,
        members: group.isLeader(m.memberId) ? this.memberList(group) : [],
      });
      this.scheduleHeartbeat(group, m);
    }
    // Members that never send SyncGroup are removed so the group does not wait forever.
    const generation = group.generationId;
    this.timer.schedule(syncKey(group), group.maxRebalanceTimeoutMs(), () => {
      if (group.generationId !== generation || group.pendingSyncMembers.size === 0) return;
      if (!group.is('CompletingRebalance', 'Stable')) return;
      for (const id of [...group.pendingSyncMembers]) {
        this.log.info({ groupId: group.groupId, memberId: id }, 'member did not send SyncGroup in time; removing it');
        this.removeMember(group, id, ErrorCode.UNKNOWN_MEMBER_ID);
      }
      if (!group.is('PreparingRebalance')) this.prepareRebalance(group, 'members did not sync');
    });
  }

  private resetAssignments(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) {
      m.assignment = EMPTY_BUFFER;
      const reply = m.awaitingSync;
      m.awaitingSync = null;
      reply?.(syncError(errorCode));
    }
  }

  // ---- SyncGroup -------------------------------------------------------------------------

  async sync(input: SyncGroupInput): Promise<SyncGroupResult> {
    const group = this.host.registry.get(input.groupId);
    if (!group || group.kind !== 'classic') return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is('Dead')) return syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const err = this.validateMember(group, input.memberId, input.groupInstanceId);
    if (err !== ErrorCode.NONE) return syncError(err);
    if (input.generationId !== group.generationId) return syncError(ErrorCode.ILLEGAL_GENERATION);
    if ((input.protocolType !== null && input.protocolType !== group.protocolType) || (input.protocolName !== null && input.protocolName !== group.protocolName)) {
      return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    const member = group.members.get(input.memberId)!;
    switch (group.state) {
      case 'PreparingRebalance':
        return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
        group.pendingSyncMembers.delete(member.memberId);
        this.scheduleHeartbeat(group, member);
        return { errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
      case 'CompletingRebalance':
        break;
      default:
        return syncError(ErrorCode.UNKNOWN_MEMBER_ID);
    }
    const result = new Promise<SyncGroupResult>((resolve) => {
      member.awaitingSync?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      member.awaitingSync = resolve;
    });
    group.pendingSyncMembers.delete(member.memberId);
    this.scheduleHeartbeat(group, member);
    if (group.isLeader(member.memberId)) {
      const given = new Map(input.assignments.map((a) => [a.memberId, a.assignment]));
      for (const m of group.members.values()) m.assignment = given.get(m.memberId) ?? EMPTY_BUFFER;
      const generation = group.generationId;
      try {
        await this.host.registry.persist(group);
        if (group.generationId === generation && group.is('CompletingRebalance')) {
          group.transition('Stable', this.timer.now());
          this.propagateAssignments(group);
        }
      } catch (err) {
        this.log.warn({ err, groupId: group.groupId }, 'storing the group assignment failed; rebalancing again');
        if (group.generationId === generation && group.is('CompletingRebalance')) {
          this.resetAssignments(group, err instanceof KafkaError ? err.code : ErrorCode.COORDINATOR_NOT_AVAILABLE);
          this.prepareRebalance(group, 'assignment could not be stored');
        }
      }
    }
    return result;
  }

  private propagateAssignments(group: ClassicGroup): void {
    for (const m of group.members.values()) {
      const reply = m.awaitingSync;
      m.awaitingSync = null;
      reply?.({ errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: m.assignment });
      this.scheduleHeartbeat(group, m);
    }
  }

  // ---- Heartbeat -------------------------------------------------------------------------

  heartbeat(input: HeartbeatInput): number {
    const group = this.host.registry.get(input.groupId);
    if (!group || group.kind !== 'classic' || group.is('Empty')) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const err = this.validateMember(group, input.memberId, input.groupInstanceId);
    if (err !== ErrorCode.NONE) return err;
    if (input.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.scheduleHeartbeat(group, group.members.get(input.memberId)!);
    return group.is('PreparingRebalance') ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  // ---- LeaveGroup ------------------------------------------------------------------------

  leave(groupId: string, leaving: LeavingMember[]): LeaveGroupResult {
    const group = this.host.registry.get(groupId);
    const all = (code: number): LeaveGroupResult => ({
      errorCode: code,
      members: leaving.map((m) => ({ ...m, errorCode: code })),
    });
    if (!group || group.kind !== 'classic') return all(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is('Dead')) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const results: LeaveGroupResult['members'] = [];
    for (const m of leaving) {
      let code: number = ErrorCode.NONE;
      if (m.groupInstanceId !== null) {
        const id = group.staticMemberId(m.groupInstanceId);
        if (id === undefined) code = ErrorCode.UNKNOWN_MEMBER_ID;
        else if (m.memberId !== '' && m.memberId !== id) code = ErrorCode.FENCED_INSTANCE_ID;
        else this.removeMember(group, id, ErrorCode.UNKNOWN_MEMBER_ID);
      } else if (group.pendingMembers.delete(m.memberId)) {
        this.timer.cancel(pendingKey(group, m.memberId));
        if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
      } else if (!group.members.has(m.memberId)) {
        code = ErrorCode.UNKNOWN_MEMBER_ID;
      } else {
        this.removeMember(group, m.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
      }
      results.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: code });
    }
    return { errorCode: ErrorCode.NONE, members: results };
  }

  /** Removes a member (left, session expired, fenced) and moves the group on. */
  removeMember(group: ClassicGroup, memberId: string, parkedError: number): void {
    const m = group.remove(memberId);
    if (!m) return;
    this.timer.cancel(heartbeatKey(group, memberId));
    m.awaitingJoin?.(joinError(parkedError, memberId));
    m.awaitingSync?.(syncError(parkedError));
    m.awaitingJoin = null;
    m.awaitingSync = null;
    if (group.is('Stable', 'CompletingRebalance')) this.prepareRebalance(group, `member ${memberId} left`);
    else if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  // ---- sessions --------------------------------------------------------------------------

  scheduleHeartbeat(group: ClassicGroup, member: ClassicMember): void {
    const memberId = member.memberId;
    this.timer.schedule(heartbeatKey(group, memberId), member.sessionTimeoutMs, () => {
      const m = group.members.get(memberId);
      if (!m || m !== member) return;
      // A member parked in JoinGroup or SyncGroup is waiting on us, not gone.
      if (m.awaitingJoin || m.awaitingSync) {
        this.scheduleHeartbeat(group, m);
        return;
      }
      this.log.info({ groupId: group.groupId, memberId, sessionTimeoutMs: m.sessionTimeoutMs }, 'member session expired; removing it');
      this.removeMember(group, memberId, ErrorCode.UNKNOWN_MEMBER_ID);
    });
  }

  /** Starts the session timers of a group loaded from the store. */
  resume(group: ClassicGroup): void {
    for (const m of group.members.values()) this.scheduleHeartbeat(group, m);
  }

  /** Answers every parked request (shutdown, shard moved away, group deleted). */
  abandon(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) {
      m.awaitingJoin?.(joinError(errorCode, m.memberId));
      m.awaitingSync?.(syncError(errorCode));
      m.awaitingJoin = null;
      m.awaitingSync = null;
      this.timer.cancel(heartbeatKey(group, m.memberId));
    }
    for (const id of group.pendingMembers) this.timer.cancel(pendingKey(group, id));
    for (const k of [joinKey(group), initialKey(group), syncKey(group)]) this.timer.cancel(k);
  }

  /** UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID or NONE, by Kafka's static-membership rules. */
  validateMember(group: ClassicGroup, memberId: string, instanceId: string | null): number {
    if (instanceId !== null) {
      const id = group.staticMemberId(instanceId);
      if (id === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      return id === memberId ? ErrorCode.NONE : ErrorCode.FENCED_INSTANCE_ID;
    }
    return group.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  private persistInBackground(group: ClassicGroup): void {
    this.host.registry.persist(group).catch((err) => this.log.warn({ err, groupId: group.groupId }, 'storing the group failed'));
  }
}

function joinError(errorCode: number, memberId: string): JoinGroupResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, skipAssignment: false, members: [] };
}

function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BUFFER };
}

function sameProtocols(a: MemberProtocol[], b: MemberProtocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}

const heartbeatKey = (g: ClassicGroup, memberId: string) => `classic:${g.groupId}:hb:${memberId}`;
const pendingKey = (g: ClassicGroup, memberId: string) => `classic:${g.groupId}:pending:${memberId}`;
const joinKey = (g: ClassicGroup) => `classic:${g.groupId}:join`;
const initialKey = (g: ClassicGroup) => `classic:${g.groupId}:initial-join`;
const syncKey = (g: ClassicGroup) => `classic:${g.groupId}:sync`;
