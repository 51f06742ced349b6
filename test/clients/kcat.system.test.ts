// kcat (librdkafka 2.0.2) against a started broker: metadata, produce with every codec (checked
// in the stored batches), keys, headers and NULL values, and consume by offset, relative offset
// and timestamp, plus offset queries by time (-Q).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { kcatConsume, kcatMetadata, kcatProduce, runKcat } from '../helpers/kcat.js';
import { expectSuccess } from '../helpers/kafka-tools.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchHeaders, rawFetch } from '../handlers/data-path.js';
import { CompressionType, type CompressionName } from '../../src/protocol/records/batch.js';

let broker: TestBroker;
let raw: RawClient;
before(async () => {
  broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  raw = await RawClient.connect(broker.port);
});
after(async () => {
  raw.close();
  await broker.stop();
});

async function createTopic(name: string, partitions = 1, configs: Record<string, string> = {}) {
  await broker.agent.context.topics.create({ name, partitions, configs });
}

interface KcatJsonMessage {
  topic: string;
  partition: number;
  offset: number;
  tstype: string;
  ts: number;
  headers?: string[] | Record<string, string>;
  key: string | null;
  payload: string | null;
}

/** Reads `count` messages of one partition with kcat -C -J from `offset`. */
async function consumeJson(topic: string, count: number, offset = 'beginning', partition = 0): Promise<KcatJsonMessage[]> {
  const r = expectSuccess(
    await runKcat(['-b', broker.bootstrap, '-C', '-t', topic, '-p', String(partition), '-o', offset, '-c', String(count), '-J'], { timeoutMs: 30_000 }),
    'kcat -C -J',
  );
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as KcatJsonMessage);
}

async function storedCodecs(topic: string, partition = 0): Promise<number[]> {
  const res = await rawFetch(raw, topic, partition, 0n, { partitionMaxBytes: 16 << 20 });
  const p = res.responses[0]!.partitions[0]!;
  assert.equal(p.errorCode, 0);
  return batchHeaders(p.records).map((h) => h.compression);
}

test('kcat -L: brokers, topics, partition counts and leaders', async () => {
  await createTopic('kc-meta-a', 4);
  await createTopic('kc-meta-b', 1);
  const md = await kcatMetadata(broker.bootstrap);
  assert.deepEqual(md.brokers, [{ id: 0, name: `127.0.0.1:${broker.port}` }]);
  assert.equal(md.originating_broker.id, 0);
  const byName = new Map(md.topics.map((t) => [t.topic, t]));
  assert.deepEqual(byName.get('kc-meta-a')!.partitions.map((p) => [p.partition, p.leader, p.replicas.map((r) => r.id)]), [0, 1, 2, 3].map((i) => [i, 0, [0]]));
  assert.equal(byName.get('kc-meta-b')!.partitions.length, 1);
  const one = await kcatMetadata(broker.bootstrap, { topic: 'kc-meta-a' });
  assert.deepEqual(one.topics.map((t) => t.topic), ['kc-meta-a']);
});

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

for (const codec of CODECS) {
  test(`kcat produces ${codec}: keys, NULL values and headers come back exactly, stored as ${codec}`, async () => {
    const topic = `kc-codec-${codec}`;
    await createTopic(topic);
    const long = 'x'.repeat(20_000) + codec; // compressible
    // -Z turns the empty value of "gone:" into a NULL (a tombstone); -H adds headers to every message.
    expectSuccess(
      await runKcat(['-b', broker.bootstrap, '-P', '-t', topic, '-p', '0', '-K', ':', '-Z', '-H', 'source=kcat', '-H', `codec=${codec}`, '-X', `compression.codec=${codec}`, '-X', 'linger.ms=50'], {
        timeoutMs: 30_000,
        input: ['k1:v1', 'k2:hello world', 'gone:', `big:${long}`].join('\n') + '\n',
      }),
      'kcat -P',
    );
    // Without -K keys are NULL. librdkafka sends a batch plain when compressing does not shrink it,
    // so this one is compressible too.
    const noKey = 'no key ' + 'n'.repeat(1000);
    await kcatProduce(broker.bootstrap, topic, [noKey], { partition: 0, props: { 'compression.codec': codec } });

    const codes = await storedCodecs(topic);
    assert.ok(codes.length >= 2, `${codes.length} batches`);
    assert.deepEqual(new Set(codes), new Set([CompressionType[codec]]), `stored codecs ${codes.join(',')}`);

    const got = await consumeJson(topic, 5);
    assert.deepEqual(
      got.map((m) => [m.offset, m.key, m.payload === null ? null : m.payload.length, m.tstype]),
      [
        [0, 'k1', 2, 'create'],
        [1, 'k2', 11, 'create'],
        [2, 'gone', null, 'create'],
        [3, 'big', long.length, 'create'],
        [4, null, noKey.length, 'create'],
      ],
    );
    assert.equal(got[1]!.payload, 'hello world');
    assert.equal(got[3]!.payload, long);
    assert.equal(got[4]!.payload, noKey);
    // kcat 1.7 prints headers as a flat [name, value, ...] array.
    assert.deepEqual(got[0]!.headers, ['source', 'kcat', 'codec', codec]);
    assert.equal(got[4]!.headers, undefined);
    // The same through a format string: key length -1 and payload length -1 mark NULLs.
    const formatted = await kcatConsume(broker.bootstrap, topic, { count: 5, partition: 0, format: '%o|%K|%k|%S|%h\\n' });
    assert.deepEqual(formatted, [`0|2|k1|2|source=kcat,codec=${codec}`, `1|2|k2|11|source=kcat,codec=${codec}`, `2|4|gone|-1|source=kcat,codec=${codec}`, `3|3|big|${long.length}|source=kcat,codec=${codec}`, `4|-1||${noKey.length}|`]);
  });
}

test('kcat consumes from an absolute offset, a relative offset from the end and the end', async () => {
  const topic = 'kc-offsets';
  await createTopic(topic, 2);
  await kcatProduce(broker.bootstrap, topic, Array.from({ length: 10 }, (_, i) => `m${i}`), { partition: 1, props: { 'compression.codec': 'lz4' } });
  assert.deepEqual(await kcatConsume(broker.bootstrap, topic, { count: 3, partition: 1, offset: '7', format: '%o:%s\\n' }), ['7:m7', '8:m8', '9:m9']);
  assert.deepEqual(await kcatConsume(broker.bootstrap, topic, { count: 2, partition: 1, offset: '-2', format: '%o:%s\\n' }), ['8:m8', '9:m9']);
  // From the end, kcat -e exits at once with nothing read.
  const end = expectSuccess(await runKcat(['-b', broker.bootstrap, '-C', '-t', topic, '-p', '1', '-o', 'end', '-e'], { timeoutMs: 30_000 }), 'kcat -o end');
  assert.equal(end.stdout, '');
  // Partition 0 is empty: -e ends there too, with nothing printed.
  const empty = expectSuccess(await runKcat(['-b', broker.bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e'], { timeoutMs: 30_000 }), 'kcat -p 0');
  assert.equal(empty.stdout, '');
});

test('kcat consumes from a timestamp (-o s@) and queries offsets by time (-Q)', async () => {
  const topic = 'kc-time';
  await createTopic(topic);
  await kcatProduce(broker.bootstrap, topic, ['early-0', 'early-1', 'early-2'], { partition: 0 });
  await sleep(30);
  await kcatProduce(broker.bootstrap, topic, ['late-3', 'late-4'], { partition: 0 });
  const all = await kcatConsume(broker.bootstrap, topic, { count: 5, partition: 0, format: '%o %T %s\\n' });
  const ts = all.map((l) => Number(l.split(' ')[1]));
  assert.ok(ts[3]! > ts[2]!, `timestamps ${ts.join(',')}`);
  assert.deepEqual(all.map((l) => l.split(' ')[2]), ['early-0', 'early-1', 'early-2', 'late-3', 'late-4']);

  // The first record at or after ts[3] is offset 3.
  assert.deepEqual(await kcatConsume(broker.bootstrap, topic, { count: 2, partition: 0, offset: `s@${ts[3]}`, format: '%o:%s\\n' }), ['3:late-3', '4:late-4']);
  // A time between two records starts at the later one.
  const firstAfter0 = ts.findIndex((t) => t > ts[0]!);
  const fromMid = await kcatConsume(broker.bootstrap, topic, { count: 5 - firstAfter0, partition: 0, offset: `s@${ts[0]! + 1}`, format: '%o\\n' });
  assert.equal(fromMid[0], String(firstAfter0));

  const query = async (t: number) => {
    const r = expectSuccess(await runKcat(['-b', broker.bootstrap, '-Q', '-t', `${topic}:0:${t}`], { timeoutMs: 30_000 }), 'kcat -Q');
    const m = /\[0\]\s+offset (-?\d+)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    return Number(m[1]);
  };
  assert.equal(await query(ts[0]!), 0);
  assert.equal(await query(ts[3]!), 3);
  // Later than every record: Kafka answers -1 (no such offset).
  assert.equal(await query(ts[4]! + 60_000), -1);
});

test('kcat -G: a consumer group reads every partition and commits, a second run reads only what is new', async () => {
  const topic = 'kc-group';
  await createTopic(topic, 3);
  for (let p = 0; p < 3; p++) await kcatProduce(broker.bootstrap, topic, [`p${p}-a`, `p${p}-b`], { partition: p, props: { 'compression.codec': 'zstd' } });
  const group = async (count: number) => {
    const r = expectSuccess(
      await runKcat(['-b', broker.bootstrap, '-G', 'kc-group-1', '-X', 'auto.offset.reset=earliest', '-X', 'enable.auto.commit=true', '-X', 'auto.commit.interval.ms=100', '-c', String(count), '-f', '%p:%o:%s\\n', topic], {
        timeoutMs: 60_000,
      }),
      'kcat -G',
    );
    return r.stdout.trim().split('\n').sort();
  };
  assert.deepEqual(await group(6), ['0:0:p0-a', '0:1:p0-b', '1:0:p1-a', '1:1:p1-b', '2:0:p2-a', '2:1:p2-b']);
  await kcatProduce(broker.bootstrap, topic, ['p1-c'], { partition: 1 });
  assert.deepEqual(await group(1), ['1:2:p1-c']);
});
