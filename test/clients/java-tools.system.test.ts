// Kafka 4.4's own command-line tools, each run through its main class against a started broker:
// kafka-console-producer with the Java client's defaults (idempotent, acks=all), keys, headers
// and null markers; kafka-console-consumer with and without a group; kafka-get-offsets for
// earliest / latest / max timestamp / a time; kafka-delete-records with a JSON offsets file;
// kafka-broker-api-versions. (kafka-topics and kafka-configs: test/handlers/admin-tools.system.test.ts.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { expectSuccess, kafkaTool, type RunResult } from '../helpers/kafka-tools.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchHeaders, rawFetch, readAll } from '../handlers/data-path.js';
import { ApiVersionsRequestMessage, ApiVersionsResponseMessage, createApiVersionsRequest } from '../../src/protocol/generated/index.js';
import { CompressionType } from '../../src/protocol/records/batch.js';

const TOOL_TIMEOUT = 60_000;
// Short-lived tools start faster with the C1 compiler only and the serial collector.
const FAST_JVM = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];
const opts = { timeoutMs: TOOL_TIMEOUT, jvmArgs: FAST_JVM };

let broker: TestBroker;
let raw: RawClient;
let scratch: string;
before(async () => {
  broker = await startTestBroker({ groupInitialRebalanceDelayMs: 0 });
  raw = await RawClient.connect(broker.port);
  scratch = mkdtempSync(join(tmpdir(), 'streamhouse-java-tools-'));
});
after(async () => {
  raw.close();
  await broker.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const server = () => ['--bootstrap-server', broker.bootstrap];

async function createTopic(name: string, partitions = 1) {
  await broker.agent.context.topics.create({ name, partitions, configs: {} });
}

/** kafka-console-producer with no producer settings: the Java defaults (enable.idempotence=true, acks=all). */
async function produceLines(topic: string, lines: string[], extra: string[] = []): Promise<RunResult> {
  return expectSuccess(await kafkaTool.ConsoleProducer([...server(), '--topic', topic, ...extra], { ...opts, input: lines.join('\n') + '\n' }), 'kafka-console-producer');
}

const FULL_FORMAT = ['print.timestamp', 'print.partition', 'print.offset', 'print.headers', 'print.key'].flatMap((p) => ['--formatter-property', `${p}=true`]);

/** kafka-console-consumer from the beginning (or the group's position); returns its stdout records. */
async function consumeLines(topic: string, maxMessages: number, extra: string[] = []): Promise<string[]> {
  const r = await kafkaTool.ConsoleConsumer([...server(), '--topic', topic, '--from-beginning', '--max-messages', String(maxMessages), '--timeout-ms', '15000', ...extra], opts);
  assert.equal(r.timedOut, false, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, maxMessages, `read ${lines.length} of ${maxMessages}: ${r.stdout}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stderr, new RegExp(`Processed a total of ${maxMessages} messages`));
  return lines;
}

/** kafka-get-offsets for one --time: {partition: offset}; partitions without an offset are not printed. */
async function getOffsets(topic: string, time: string): Promise<Record<number, number>> {
  const r = expectSuccess(await kafkaTool.GetOffsetShell([...server(), '--topic', topic, '--time', time], opts), 'kafka-get-offsets');
  const out: Record<number, number> = {};
  for (const line of r.stdout.split('\n').filter((l) => l !== '')) {
    const m = /^(.+):(\d+):(-?\d+)$/.exec(line);
    assert.ok(m && m[1] === topic, `unexpected line ${line}`);
    out[Number(m[2])] = Number(m[3]);
  }
  return out;
}

test('console producer (idempotent, acks=all) writes keys, headers and nulls; console consumer prints them exactly', async () => {
  const topic = 'jt-console';
  await createTopic(topic);
  await produceLines(
    topic,
    ['h1:a,h2:b\tk1\tv1', 'h:x\tk2\tNULL', 'h3:NULL\tNULL\tv3', 'trace:t9\tk4\tfour words here'],
    ['--reader-property', 'parse.key=true', '--reader-property', 'parse.headers=true', '--reader-property', 'null.marker=NULL'],
  );
  // A second run with a codec, still with the default idempotence.
  await produceLines(topic, ['plain-5', 'plain-6'], ['--compression-codec', 'zstd']);

  const res = await rawFetch(raw, topic, 0, 0n);
  const batches = batchHeaders(res.responses[0]!.partitions[0]!.records);
  assert.deepEqual(batches.map((b) => [b.baseOffset, b.recordCount, b.baseSequence, b.producerEpoch]), [
    [0n, 4, 0, 0],
    [4n, 2, 0, 0],
  ]);
  assert.ok(batches.every((b) => b.producerId >= 0n), 'both runs are idempotent producers (InitProducerId)');
  assert.notEqual(batches[0]!.producerId, batches[1]!.producerId, 'each run gets its own producer id');
  assert.deepEqual(batches.map((b) => b.compression), [CompressionType.none, CompressionType.zstd]);
  const records = await readAll(raw, topic, 0);
  assert.equal(records[1]!.value, null, 'the null marker produced a null value');
  assert.equal(records[2]!.key, null, 'the null marker produced a null key');
  assert.deepEqual(records[2]!.headers.map((h) => [h.key, h.value]), [['h3', null]]);

  const lines = await consumeLines(topic, 6, [...FULL_FORMAT, '--formatter-property', 'null.literal=<null>']);
  const fields = lines.map((l) => l.split('\t'));
  assert.ok(fields.every((f) => /^CreateTime:\d{13}$/.test(f[0]!)), lines.join('\n'));
  assert.deepEqual(
    fields.map((f) => f.slice(1)),
    [
      ['Partition:0', 'Offset:0', 'h1:a,h2:b', 'k1', 'v1'],
      ['Partition:0', 'Offset:1', 'h:x', 'k2', '<null>'],
      ['Partition:0', 'Offset:2', 'h3:<null>', '<null>', 'v3'],
      ['Partition:0', 'Offset:3', 'trace:t9', 'k4', 'four words here'],
      ['Partition:0', 'Offset:4', 'NO_HEADERS', '<null>', 'plain-5'],
      ['Partition:0', 'Offset:5', 'NO_HEADERS', '<null>', 'plain-6'],
    ],
  );
});

test('console consumer with a group commits its position; a later run reads only new records', async () => {
  const topic = 'jt-group';
  await createTopic(topic, 3);
  await produceLines(topic, ['0:a', '1:b', '2:c', '0:d', '1:e', '2:f'].map((l) => l.replace(':', '\t')), ['--reader-property', 'parse.key=true']);
  const group = ['--group', 'jt-console-group', '--formatter-property', 'print.key=true'];
  const first = await consumeLines(topic, 6, group);
  assert.deepEqual(first.sort(), ['0\ta', '0\td', '1\tb', '1\te', '2\tc', '2\tf']);

  const described = expectSuccess(await kafkaTool.ConsumerGroupCommand([...server(), '--describe', '--group', 'jt-console-group'], opts), 'kafka-consumer-groups');
  const rows = described.stdout.split('\n').filter((l) => l.startsWith('jt-console-group '));
  const committed = rows.map((r) => r.trim().split(/\s+/)).map(([, t, p, cur, end, lag]) => [t, p, cur, end, lag].join(' '));
  const records = await Promise.all([0, 1, 2].map(async (p) => (await readAll(raw, topic, p)).length));
  assert.deepEqual(
    committed.sort(),
    [0, 1, 2].map((p) => `${topic} ${p} ${records[p]} ${records[p]} 0`),
  );

  await produceLines(topic, ['later'], ['--reader-property', 'parse.key=false']);
  assert.deepEqual(await consumeLines(topic, 1, ['--group', 'jt-console-group']), ['later']);
  // Without a group, --from-beginning reads everything again.
  assert.equal((await consumeLines(topic, 7, [])).length, 7);
});

test('kafka-get-offsets: earliest, latest, max timestamp and by time', async () => {
  const topic = 'jt-offsets';
  await createTopic(topic, 2);
  await produceLines(topic, ['e0', 'e1', 'e2'], ['--producer-property', 'partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner']);
  const partition0 = await readAll(raw, topic, 0);
  const partition1 = await readAll(raw, topic, 1);
  assert.equal(partition0.length + partition1.length, 3);
  await new Promise((r) => setTimeout(r, 20));
  await produceLines(topic, ['late']);
  const counts = [(await readAll(raw, topic, 0)).length, (await readAll(raw, topic, 1)).length];

  assert.deepEqual(await getOffsets(topic, '-2'), { 0: 0, 1: 0 });
  assert.deepEqual(await getOffsets(topic, 'latest'), { 0: counts[0], 1: counts[1] });

  // By time: the first record at or after it, per partition; none after the last record.
  const all = [0, 1].map(async (p) => (await readAll(raw, topic, p)).map((r) => r.timestamp));
  const [ts0, ts1] = await Promise.all(all);
  const firstAt = (ts: bigint[], t: bigint) => ts.findIndex((x) => x >= t);
  const last = [...ts0!, ...ts1!].reduce((a, b) => (a > b ? a : b));
  const expected: Record<number, number> = {};
  for (const [p, ts] of [ts0!, ts1!].entries()) if (firstAt(ts, last) >= 0) expected[p] = firstAt(ts, last);
  assert.deepEqual(await getOffsets(topic, String(last)), expected);
  assert.deepEqual(await getOffsets(topic, String(last + 60_000n)), {});
  const first = [...ts0!, ...ts1!].reduce((a, b) => (a < b ? a : b));
  assert.deepEqual(await getOffsets(topic, String(first)), { 0: 0, 1: 0 });
  // max-timestamp (-3): the offset of the record with the largest timestamp of each partition.
  const maxTs = await getOffsets(topic, '-3');
  for (const [p, ts] of [ts0!, ts1!].entries()) {
    const max = ts.reduce((a, b) => (a > b ? a : b));
    assert.equal(maxTs[p], ts.indexOf(max), `partition ${p} timestamps ${ts.join(',')}`);
  }
});

test('kafka-delete-records with a JSON offsets file moves the log start; consumers and get-offsets follow', async () => {
  const topic = 'jt-delete';
  await createTopic(topic, 2);
  await produceLines(topic, Array.from({ length: 10 }, (_, i) => `r${i}`), ['--producer-property', 'partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner']);
  const before = [(await readAll(raw, topic, 0)).length, (await readAll(raw, topic, 1)).length];
  assert.equal(before[0]! + before[1]!, 10);
  const file = join(scratch, 'offsets.json');
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      partitions: [
        { topic, partition: 0, offset: 2 },
        // -1 means the high watermark: everything.
        { topic, partition: 1, offset: -1 },
      ],
    }),
  );
  const r = expectSuccess(await kafkaTool.DeleteRecordsCommand([...server(), '--offset-json-file', file], opts), 'kafka-delete-records');
  assert.match(r.stdout, new RegExp(`partition: ${topic}-0\\tlow_watermark: 2`));
  assert.match(r.stdout, new RegExp(`partition: ${topic}-1\\tlow_watermark: ${before[1]}`));
  assert.deepEqual(await getOffsets(topic, 'earliest'), { 0: 2, 1: before[1] });
  assert.deepEqual(await getOffsets(topic, 'latest'), { 0: before[0], 1: before[1] });
  const left = await consumeLines(topic, before[0]! - 2, ['--formatter-property', 'print.offset=true', '--formatter-property', 'print.partition=true']);
  const expectedValues = (await readAll(raw, topic, 0, 2n)).map((rec) => `Partition:0\tOffset:${rec.offset}\t${rec.value!.toString()}`);
  assert.deepEqual(left, expectedValues);
  assert.ok(left[0]!.startsWith('Partition:0\tOffset:2\t'));

  // Past the high watermark is OFFSET_OUT_OF_RANGE, reported by the tool.
  writeFileSync(file, JSON.stringify({ version: 1, partitions: [{ topic, partition: 0, offset: 1000 }] }));
  const bad = await kafkaTool.DeleteRecordsCommand([...server(), '--offset-json-file', file], opts);
  assert.match(bad.stdout + bad.stderr, /OffsetOutOfRange|offset.*out of range/i);
});

test('kafka-broker-api-versions lists exactly what ApiVersions serves, Produce from v0 (KAFKA-18659)', async () => {
  const r = expectSuccess(await kafkaTool.BrokerApiVersionsCommand(server(), opts), 'kafka-broker-api-versions');
  assert.match(r.stdout, new RegExp(`^127\\.0\\.0\\.1:${broker.port} \\(id: 0 rack: null`, 'm'));
  const listed = new Map<number, [number, number]>();
  // "Name(key): min to max [usable: v]", or "Name(key): v [usable: v]" for a single version.
  for (const m of r.stdout.matchAll(/\t\w+\((\d+)\): (\d+)(?: to (\d+))? \[usable: \d+\]/g)) listed.set(Number(m[1]), [Number(m[2]), Number(m[3] ?? m[2])]);
  // The tool lists every API the Java client knows; the ones not served read UNSUPPORTED.
  assert.match(r.stdout, /\tSaslHandshake\(17\): UNSUPPORTED/);
  const served = await raw.request(ApiVersionsRequestMessage, ApiVersionsResponseMessage, 3, { ...createApiVersionsRequest(), clientSoftwareName: 'test', clientSoftwareVersion: '1' });
  assert.deepEqual(
    [...listed.entries()].sort((a, b) => a[0] - b[0]),
    served.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]),
  );
  assert.match(r.stdout, /\tProduce\(0\): 0 to 11 \[usable: 11\]/);
  assert.match(r.stdout, /\tInitProducerId\(22\): 0 to \d+ \[usable: \d+\]/);
});
