// A kafkajs member crashes (its process is killed with SIGKILL while it consumes): the group
// only learns of it when its session expires, then the survivors take over its partitions from
// its last committed offsets. No committed record is read again; none is skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { GroupLedger, waitUntil } from './group-ledger.js';

const TOPIC = 'crash';
const PARTITIONS = 6;
const MEMBER_SCRIPT = fileURLToPath(new URL('./kafkajs-member.js', import.meta.url));

interface ChildMember {
  name: string;
  child: ChildProcess;
  reads: number;
  exited: Promise<void>;
}

function startMember(broker: TestBroker, name: string, ledger: GroupLedger): ChildMember {
  const child = spawn(process.execPath, [MEMBER_SCRIPT, broker.bootstrap, TOPIC, 'crash-group', name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const m: ChildMember = { name, child, reads: 0, exited: new Promise((r) => child.once('exit', () => r())) };
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    buf += s;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const ev = JSON.parse(buf.slice(0, nl)) as { ev: string; p: number; o: number };
      buf = buf.slice(nl + 1);
      if (ev.ev === 'read') {
        m.reads++;
        ledger.consumed(name, TOPIC, ev.p, ev.o, ev.o);
      } else if (ev.ev === 'committed') {
        ledger.commit(TOPIC, ev.p, ev.o + 1);
      }
    }
  });
  return m;
}

test('a member killed with SIGKILL is removed when its session expires; the others resume from its commits', { timeout: 180_000 }, async () => {
  const broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  const kafka = new Kafka({ clientId: 'crash-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const ledger = new GroupLedger();
  const members: ChildMember[] = [];
  const producer = kafka.producer();
  let produced = 0;
  const produce = async (n: number) => {
    await producer.send({ topic: TOPIC, messages: Array.from({ length: n }, (_, i) => ({ value: `v${produced + i}`, partition: (produced + i) % PARTITIONS })) });
    produced += n;
  };
  const allCommitted = () => {
    for (let p = 0; p < PARTITIONS; p++) if (ledger.committedOffset(TOPIC, p) !== produced / PARTITIONS) return false;
    return true;
  };
  try {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    await producer.connect();
    for (const name of ['a', 'b', 'c']) members.push(startMember(broker, name, ledger));
    await waitUntil(async () => {
      const g = (await admin.describeGroups(['crash-group'])).groups[0]!;
      return g.state === 'Stable' && g.members.length === 3;
    }, 'a stable group of 3', 60_000, 200);
    await produce(300);
    await waitUntil(allCommitted, 'the first 300 records committed');

    // Kill a member in the middle of a batch it is consuming.
    const victim = members[1]!;
    const readsBefore = victim.reads;
    await produce(600);
    await waitUntil(() => victim.reads > readsBefore + 5, 'the victim reading the new batch', 30_000, 5);
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;

    await waitUntil(allCommitted, `all ${produced} records committed by the survivors`, 60_000);
    const g = (await admin.describeGroups(['crash-group'])).groups[0]!;
    assert.equal(g.members.length, 2, 'the crashed member was removed');
    assert.equal(g.state, 'Stable');
    // kafkajs' sessionTimeout is 6 s: the takeover cannot come before the session expired.
    assert.ok(Date.now() - killedAt >= 5000, 'the survivors waited for the session to expire');
    assert.deepEqual(ledger.violations.slice(0, 5), [], 'no committed record read again');
    const ends = Array.from({ length: PARTITIONS }, () => produced / PARTITIONS);
    assert.deepEqual(ledger.missing(TOPIC, ends), [], 'no record skipped');
    await admin.disconnect();
  } finally {
    await producer.disconnect().catch(() => undefined);
    for (const m of members) {
      if (m.child.exitCode === null && m.child.signalCode === null) {
        m.child.kill('SIGTERM');
        await m.exited;
      }
    }
    await broker.stop();
  }
});
