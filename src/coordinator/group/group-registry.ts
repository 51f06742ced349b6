// The coordinator's groups in memory and their persistence. Writes of one group are chained so
// they reach the store in the order the state machine made them; each is a compare-and-set on
// the row's version, so if another agent took the group's shard over (cluster mode), this one's
// write fails and the caller answers NOT_COORDINATOR instead of overwriting. A new owner claims
// each group it loads (a write at the loaded version), so from then on the old owner's writes fail
// even if it has not noticed the move yet; and no write starts once this agent's own lease on the
// shard is no longer valid by its clock (`mayWrite`). Every write is also fenced in the store on the
// shard's lease epoch (`fenceOf`), so a paused old owner cannot write even at a matching version.
import { LeaseFencedError } from '../../metadata/errors.js';
import type { KeyValueStore, LeaseFence } from '../../metadata/types.js';
import type { Logger } from '../../observability/logger.js';
import { ErrorCode, KafkaError, kafkaError } from '../../protocol/errors.js';
import { decodeGroup, encodeGroup, type Group } from './group-record.js';

export const GROUPS_NAMESPACE = 'groups';

/** A write refused because the shard's lease moved is, to the client, NOT_COORDINATOR. */
export function notCoordinatorIfFenced(err: unknown): never {
  if (err instanceof LeaseFencedError) throw new KafkaError(ErrorCode.NOT_COORDINATOR, `${err.message}; find the coordinator again`);
  throw err;
}

export class GroupRegistry {
  readonly groups = new Map<string, Group>();
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly kv: KeyValueStore,
    private readonly log: Logger,
    /** Whether this agent may still write the group (cluster mode: it holds the shard's lease). */
    private readonly mayWrite: (groupId: string) => boolean = () => true,
    /** The shard lease to fence the group's writes on (cluster mode). */
    private readonly fenceOf: (groupId: string) => LeaseFence | undefined = () => undefined,
  ) {}

  get(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  set(group: Group): void {
    this.groups.set(group.groupId, group);
  }

  /** Reads every persisted group (start-up, or taking a shard over). */
  async load(now: number, accept: (groupId: string) => boolean = () => true): Promise<Group[]> {
    const out: Group[] = [];
    for (const e of await this.kv.list(GROUPS_NAMESPACE)) {
      if (!accept(e.key)) continue;
      try {
        const g = decodeGroup(e.key, e.value, e.version, now);
        this.groups.set(g.groupId, g);
        out.push(g);
      } catch (err) {
        this.log.error({ err, groupId: e.key }, 'cannot decode a persisted group; it starts empty');
      }
    }
    return out;
  }

  /** Writes the group as it is now; resolves once stored, in call order per group. */
  persist(group: Group): Promise<void> {
    const value = encodeGroup(group);
    return this.chain(group.groupId, async () => {
      if (!this.mayWrite(group.groupId)) {
        throw kafkaError('NOT_COORDINATOR', `this agent no longer holds the coordinator lease of group ${group.groupId}`);
      }
      const version = await this.kv.put(GROUPS_NAMESPACE, group.groupId, value, group.kvVersion, this.fenceOf(group.groupId)).catch(notCoordinatorIfFenced);
      if (version === null) {
        throw kafkaError('NOT_COORDINATOR', `group ${group.groupId} was changed by another coordinator; this agent no longer owns it`);
      }
      group.kvVersion = version;
    });
  }

  /**
   * Takes over a group just loaded (a coordinator shard moved here): writes it back at the version
   * read, so a write the previous owner still makes afterwards fails. When the previous owner
   * wrote in between, the group is read again (a few times) and the newest state is kept.
   */
  async claim(group: Group, now: number): Promise<Group | null> {
    let g: Group | null = group;
    for (let attempt = 0; g !== null && attempt < 3; attempt++) {
      try {
        await this.persist(g);
        return g;
      } catch (err) {
        if (!(err instanceof KafkaError) || err.code !== ErrorCode.NOT_COORDINATOR || !this.mayWrite(g.groupId)) throw err;
        const e = await this.kv.getEntry(GROUPS_NAMESPACE, g.groupId);
        if (this.groups.get(g.groupId) === g) this.groups.delete(g.groupId);
        g = e ? decodeGroup(g.groupId, e.value, e.version, now) : null;
        if (g) this.groups.set(g.groupId, g);
      }
    }
    if (g) throw kafkaError('NOT_COORDINATOR', `group ${g.groupId} keeps changing under another coordinator`);
    return null;
  }

  /** Forgets the group and removes its record. */
  remove(group: Group): Promise<void> {
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
    return this.chain(group.groupId, async () => {
      await this.kv.delete(GROUPS_NAMESPACE, group.groupId, undefined, this.fenceOf(group.groupId)).catch(notCoordinatorIfFenced);
    });
  }

  /** Waits for every pending write (shutdown). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }

  private chain(groupId: string, write: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(groupId) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(write);
    this.chains.set(groupId, next);
    void next.finally(() => {
      if (this.chains.get(groupId) === next) this.chains.delete(groupId);
    }).catch(() => undefined);
    return next;
  }
}
