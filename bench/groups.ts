// Consumer group rebalance times, StreamHouse against Apache Kafka 4.4 in the same run: how long a
// group of Java consumers (Kafka's VerifiableConsumer, one JVM per member) takes to settle on a
// full assignment again (every partition owned by exactly one member, every member owning one)
// after a 5th member joins a group of 4, and after one of 5 is killed with SIGKILL (which is
// dominated by the session timeout, the same on both brokers). Measured for the classic protocol
// with an eager (range) and a cooperative (cooperative-sticky) assignor and for KIP-848.
//
// The clock starts at the newcomer's `startup_complete` event (JVM start excluded) or at the
// kill, and stops at the first moment the members' reported assignments cover the topic again.
import { Kafka, logLevel } from 'kafkajs';
import { startApacheKafka } from './apache-kafka.js';
import { startTestBroker } from '../test/helpers/broker.js';
import { fullyAssigned, startVerifiableConsumer, type VerifiableConsumerOptions, type VerifiableMember } from '../test/groups/verifiable-consumer.js';
import { waitUntil } from '../test/groups/group-ledger.js';

export interface GroupBenchRow {
  broker: string;
  protocol: string;
  /** Session timeout of the members (classic: the client's; KIP-848: the broker's). */
  sessionTimeoutMs: number;
  /** 4 -> 5 members: from the newcomer subscribing to a full, balanced assignment. */
  joinStableMs: number;
  /** 5 -> 4 members: from SIGKILL of a member to a full assignment among the survivors. */
  crashStableMs: number;
}

export interface GroupBenchOptions {
  partitions?: number;
  sessionTimeoutMs?: number;
  /** Which of the three protocols to run (all by default). */
  protocols?: string[];
}

interface ProtocolSetup {
  name: string;
  member: Partial<VerifiableConsumerOptions>;
}

const PROTOCOLS: ProtocolSetup[] = [
  { name: 'classic range (eager)', member: { assignor: 'range' } },
  { name: 'classic cooperative-sticky', member: { assignor: 'cooperative-sticky' } },
  { name: 'consumer (KIP-848)', member: { groupProtocol: 'consumer' } },
];

interface Target {
  name: string;
  bootstrap: string;
  stop(): Promise<void>;
}

async function startKafka(sessionTimeoutMs: number): Promise<Target> {
  const k = await startApacheKafka({
    logLevel: 'warn',
    config: {
      'group.consumer.session.timeout.ms': String(sessionTimeoutMs),
      'group.consumer.min.session.timeout.ms': String(Math.min(sessionTimeoutMs, 45_000)),
    },
  });
  return { name: 'Apache Kafka', bootstrap: k.bootstrap, stop: () => k.stop() };
}

async function startStreamHouse(sessionTimeoutMs: number): Promise<Target> {
  const b = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  // group.consumer.session.timeout.ms has no flag yet; the coordinator reads its live settings.
  b.agent.context.groups!.config.consumerSessionTimeoutMs = sessionTimeoutMs;
  return { name: 'StreamHouse', bootstrap: b.bootstrap, stop: () => b.stop() };
}

async function measure(t: Target, setup: ProtocolSetup, partitions: number, sessionTimeoutMs: number): Promise<GroupBenchRow> {
  const topic = `bench-groups-${setup.name.replace(/\W+/g, '-')}-${Date.now()}`;
  const kafka = new Kafka({ clientId: 'bench-groups', brokers: [t.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const members: VerifiableMember[] = [];
  const start = async (n: number) => {
    const m = await startVerifiableConsumer({ bootstrap: t.bootstrap, topic, groupId: topic, name: `m${n}`, sessionTimeoutMs, ...setup.member });
    members.push(m);
    await m.waitForEvent((e) => e.name === 'startup_complete', 120_000);
    return m;
  };
  const live = () => members.filter((m) => !m.dead);
  const settled = () => fullyAssigned(live(), topic, partitions, { everyMemberOwns: true });
  try {
    await Promise.all([1, 2, 3, 4].map(start));
    await waitUntil(settled, `4 members of ${topic} settling`, 180_000, 10);

    const newcomer = await start(5);
    const joinedAt = newcomer.events.find((e) => e.name === 'startup_complete')!.seenAt;
    await waitUntil(settled, 'the group settling after a join', 180_000, 5);
    const joinStableMs = Date.now() - joinedAt;
    // Let in-flight incremental moves finish before the next measurement.
    await new Promise((r) => setTimeout(r, 2000));

    const killedAt = Date.now();
    await members[1]!.kill();
    await waitUntil(settled, 'the group settling after a crash', 180_000, 5);
    const crashStableMs = Date.now() - killedAt;
    return { broker: t.name, protocol: setup.name, sessionTimeoutMs, joinStableMs, crashStableMs };
  } finally {
    await Promise.all(members.map((m) => (m.dead ? undefined : m.stop().catch(() => undefined))));
  }
}

/** Runs every protocol against Apache Kafka, then StreamHouse; one row per broker and protocol. */
export async function runGroupBench(opts: GroupBenchOptions = {}): Promise<GroupBenchRow[]> {
  const partitions = opts.partitions ?? 10;
  const sessionTimeoutMs = opts.sessionTimeoutMs ?? 10_000;
  const setups = PROTOCOLS.filter((p) => !opts.protocols || opts.protocols.includes(p.name));
  const rows: GroupBenchRow[] = [];
  for (const startTarget of [startKafka, startStreamHouse]) {
    const t = await startTarget(sessionTimeoutMs);
    try {
      for (const setup of setups) rows.push(await measure(t, setup, partitions, sessionTimeoutMs));
    } finally {
      await t.stop();
    }
  }
  return rows;
}
