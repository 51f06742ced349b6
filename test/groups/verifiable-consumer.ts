// Kafka's VerifiableConsumer (org.apache.kafka.tools, the client Kafka's own system tests use) as
// a group member: one JVM per member, its JSON events parsed as they arrive into what it owns
// now and, through a shared GroupLedger, what it read and committed. Used by the group system
// tests and by bench/groups.ts.
import { startKafkaTool, KAFKA_TOOL, type RunningProcess, type RunResult } from '../helpers/kafka-tools.js';
import type { GroupLedger } from './group-ledger.js';

export interface VerifiableConsumerOptions {
  bootstrap: string;
  topic: string;
  groupId: string;
  name: string;
  ledger?: GroupLedger;
  /** classic (default) or consumer (KIP-848). */
  groupProtocol?: 'classic' | 'consumer';
  /** Classic only: range, roundrobin, sticky or cooperative-sticky. */
  assignor?: 'range' | 'roundrobin' | 'sticky' | 'cooperative-sticky';
  /** KIP-848 only: the server-side assignor (uniform or range). */
  remoteAssignor?: string;
  groupInstanceId?: string;
  /** Classic only (KIP-848 takes the broker's group.consumer.session.timeout.ms). */
  sessionTimeoutMs?: number;
  /** Extra consumer properties, written to the --command-config file. */
  props?: Record<string, string>;
  timeoutMs?: number;
}

export interface ConsumerEvent {
  name: string;
  timestamp: number;
  /** When this process read the line. */
  seenAt: number;
  [k: string]: unknown;
}

interface TopicPartitionJson {
  topic: string;
  partition: number;
}

const ASSIGNOR_CLASS = {
  range: 'org.apache.kafka.clients.consumer.RangeAssignor',
  roundrobin: 'org.apache.kafka.clients.consumer.RoundRobinAssignor',
  sticky: 'org.apache.kafka.clients.consumer.StickyAssignor',
  'cooperative-sticky': 'org.apache.kafka.clients.consumer.CooperativeStickyAssignor',
} as const;

export class VerifiableMember {
  readonly owned = new Set<string>();
  readonly events: ConsumerEvent[] = [];
  /** Assignment changes (assigned, revoked, lost) seen so far. */
  rebalances = 0;
  /** Set by the test once it stopped or killed this member. */
  dead = false;
  private readonly proc: RunningProcess;
  private buffered = '';
  private readonly listeners = new Set<() => void>();

  constructor(readonly opts: VerifiableConsumerOptions, configFile: string | null) {
    const args = ['--bootstrap-server', opts.bootstrap, '--topic', opts.topic, '--group-id', opts.groupId, '--reset-policy', 'earliest'];
    if (opts.groupProtocol === 'consumer') {
      args.push('--group-protocol', 'consumer');
      if (opts.remoteAssignor) args.push('--group-remote-assignor', opts.remoteAssignor);
    } else {
      args.push('--assignment-strategy', ASSIGNOR_CLASS[opts.assignor ?? 'range']);
      if (opts.sessionTimeoutMs !== undefined) args.push('--session-timeout', String(opts.sessionTimeoutMs));
    }
    if (opts.groupInstanceId) args.push('--group-instance-id', opts.groupInstanceId);
    if (configFile) args.push('--command-config', configFile);
    this.proc = startKafkaTool(KAFKA_TOOL.VerifiableConsumer, args, { timeoutMs: opts.timeoutMs ?? 600_000 });
    this.proc.child.stdout!.on('data', (chunk: string) => this.onData(chunk));
  }

  get pid(): number {
    return this.proc.pid;
  }

  get exited(): Promise<RunResult> {
    return this.proc.exited;
  }

  stderr(): string {
    return this.proc.stderr();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl).trim();
      this.buffered = this.buffered.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      let ev: ConsumerEvent;
      try {
        ev = { ...(JSON.parse(line) as ConsumerEvent), seenAt: Date.now() };
      } catch {
        continue;
      }
      this.apply(ev);
    }
    for (const l of this.listeners) l();
  }

  private apply(ev: ConsumerEvent): void {
    this.events.push(ev);
    const tps = (ev.partitions as TopicPartitionJson[] | undefined) ?? [];
    const ledger = this.opts.ledger;
    switch (ev.name) {
      case 'partitions_assigned':
        for (const tp of tps) this.owned.add(`${tp.topic}:${tp.partition}`);
        this.rebalances++;
        break;
      case 'partitions_revoked':
      case 'partitions_lost':
        for (const tp of tps) this.owned.delete(`${tp.topic}:${tp.partition}`);
        this.rebalances++;
        break;
      case 'records_consumed':
        for (const p of ev.partitions as { topic: string; partition: number; minOffset: number; maxOffset: number }[]) {
          ledger?.consumed(this.opts.name, p.topic, p.partition, p.minOffset, p.maxOffset);
        }
        break;
      case 'offsets_committed':
        if (ev.success === true) for (const o of ev.offsets as { topic: string; partition: number; offset: number }[]) ledger?.commit(o.topic, o.partition, o.offset);
        break;
    }
  }

  /** Resolves once an event matching `pred` has been seen (including earlier ones). */
  waitForEvent(pred: (e: ConsumerEvent) => boolean, timeoutMs: number): Promise<ConsumerEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const e = this.events.find(pred);
        if (e) {
          done();
          resolve(e);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.opts.name}: no matching event within ${timeoutMs} ms; events: ${this.events.map((e) => e.name).join(',')}\nstderr:\n${this.proc.stderr().slice(-3000)}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** SIGTERM: the tool closes its consumer (a dynamic member leaves the group). */
  stop(): Promise<RunResult> {
    this.dead = true;
    return this.proc.stop(30_000);
  }

  /** SIGKILL: a crash; the group only notices when the session expires. */
  async kill(): Promise<void> {
    this.dead = true;
    this.proc.child.kill('SIGKILL');
    await this.proc.exited.catch(() => undefined);
  }
}

/** Starts one member; `props` go through a temporary --command-config file. */
export async function startVerifiableConsumer(opts: VerifiableConsumerOptions): Promise<VerifiableMember> {
  let configFile: string | null = null;
  if (opts.props && Object.keys(opts.props).length > 0) {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    configFile = join(mkdtempSync(join(tmpdir(), 'vc-')), 'consumer.properties');
    writeFileSync(configFile, Object.entries(opts.props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  }
  return new VerifiableMember(opts, configFile);
}

/**
 * True when the members own every partition of `topic` exactly once: the group has settled on
 * an assignment (for KIP-848 and cooperative groups, once the incremental moves are done).
 */
export function fullyAssigned(members: readonly VerifiableMember[], topic: string, partitions: number, opts: { everyMemberOwns?: boolean } = {}): boolean {
  const seen = new Set<string>();
  for (const m of members) {
    if (opts.everyMemberOwns && m.owned.size === 0) return false;
    for (const tp of m.owned) {
      if (seen.has(tp)) return false;
      seen.add(tp);
    }
  }
  for (let p = 0; p < partitions; p++) if (!seen.has(`${topic}:${p}`)) return false;
  return seen.size === partitions;
}
