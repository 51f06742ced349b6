// The client helpers against a real Apache Kafka 4.4 broker (bench/apache-kafka.ts): if these
// pass, a failing StreamHouse system test that uses them points at StreamHouse, not the harness.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApacheKafka, type ApacheKafka } from '../../bench/apache-kafka.js';
import { consoleConsume, consoleProduce, expectSuccess, kafkaTool, KAFKA_TOOL, startKafkaTool } from '../helpers/kafka-tools.js';
import { kcatConsume, kcatMetadata, kcatProduce, runKcat } from '../helpers/kcat.js';
import { confluentKafka, runConfluentKafka } from '../helpers/confluent-kafka.js';

describe('client helpers against Apache Kafka', { timeout: 240_000 }, () => {
  let kafka: ApacheKafka;
  before(async () => {
    kafka = await startApacheKafka({ heap: '512m' });
  });
  after(async () => {
    await kafka?.stop();
  });

  it('the broker reports its memory and answers TopicCommand', async () => {
    assert.ok(kafka.peakRssBytes() > 50 << 20, `peak RSS ${kafka.peakRssBytes()}`);
    expectSuccess(
      await kafkaTool.TopicCommand(['--bootstrap-server', kafka.bootstrap, '--create', '--topic', 'java-lines', '--partitions', '2', '--replication-factor', '1'], { timeoutMs: 60_000 }),
      'TopicCommand --create',
    );
    const list = await kafkaTool.TopicCommand(['--bootstrap-server', kafka.bootstrap, '--list'], { timeoutMs: 60_000 });
    assert.match(list.stdout, /^java-lines$/m);
  });

  it('console producer and consumer round-trip keyed lines', async () => {
    await consoleProduce(kafka.bootstrap, 'java-keyed', ['k1:v1', 'k2:v2', 'k3:v3'], { keySeparator: ':' });
    const got = await consoleConsume(kafka.bootstrap, 'java-keyed', { maxMessages: 3, printKey: true });
    assert.deepEqual(got.sort(), ['k1\tv1', 'k2\tv2', 'k3\tv3']);
  });

  it('a long-running VerifiableProducer reports acks line by line', async () => {
    const p = startKafkaTool(KAFKA_TOOL.VerifiableProducer, ['--bootstrap-server', kafka.bootstrap, '--topic', 'verifiable', '--max-messages', '5'], { timeoutMs: 60_000 });
    const line = await p.waitForLine((l) => l.includes('"name":"producer_send_success"'), 50_000);
    assert.equal(JSON.parse(line).topic, 'verifiable');
    const r = await p.exited;
    assert.equal(r.code, 0);
    assert.equal(r.stdout.match(/producer_send_success/g)?.length, 5);
  });

  it('ProducerPerformance runs against it', async () => {
    const r = expectSuccess(
      await kafkaTool.ProducerPerformance(
        ['--bootstrap-server', kafka.bootstrap, '--topic', 'perf', '--num-records', '20000', '--record-size', '100', '--throughput', '-1'],
        { timeoutMs: 120_000 },
      ),
      'ProducerPerformance',
    );
    assert.match(r.stdout, /^20000 records sent, [\d.]+ records\/sec/m);
  });

  it('kcat produces, consumes and lists metadata', async () => {
    await kcatProduce(kafka.bootstrap, 'kcat-lines', ['a', 'b', 'c'], { partition: 0, props: { 'compression.codec': 'lz4' } });
    assert.deepEqual(await kcatConsume(kafka.bootstrap, 'kcat-lines', { count: 3, partition: 0 }), ['a', 'b', 'c']);
    assert.deepEqual(await kcatConsume(kafka.bootstrap, 'kcat-lines', { count: 1, partition: 0, offset: '1', format: '%o:%s\\n' }), ['1:b']);
    const md = await kcatMetadata(kafka.bootstrap, { topic: 'kcat-lines' });
    assert.equal(md.brokers.length, 1);
    assert.equal(md.topics[0]!.topic, 'kcat-lines');
    assert.equal((await runKcat(['-V'], { timeoutMs: 10_000 })).code, 0);
  });

  it('confluent-kafka creates, produces (plain and transactional), consumes and reads metadata', async () => {
    await confluentKafka(kafka.bootstrap, { op: 'createTopics', topics: [{ name: 'py', partitions: 3 }] });
    const produced = await confluentKafka(kafka.bootstrap, {
      op: 'produce',
      topic: 'py',
      messages: [
        { key: 'a', value: 'one', partition: 0, headers: { h: 'x' } },
        { key: 'b', value: 'two', partition: 0 },
      ],
      config: { 'compression.type': 'zstd' },
    });
    assert.deepEqual(produced.delivered!.map((d) => d.offset), [0, 1]);
    await confluentKafka(kafka.bootstrap, { op: 'produce', topic: 'py', transactionalId: 'py-tx', messages: [{ value: 'committed', partition: 1 }] });
    await confluentKafka(kafka.bootstrap, { op: 'produce', topic: 'py', transactionalId: 'py-tx', abort: true, messages: [{ value: 'aborted', partition: 1 }] });
    const consumed = await confluentKafka(kafka.bootstrap, {
      op: 'consume',
      assign: [
        { topic: 'py', partition: 0 },
        { topic: 'py', partition: 1 },
      ],
      maxMessages: 3,
      config: { 'isolation.level': 'read_committed' },
    });
    const byValue = Object.fromEntries(consumed.messages!.map((m) => [m.value, m]));
    assert.deepEqual(Object.keys(byValue).sort(), ['committed', 'one', 'two']);
    assert.deepEqual(byValue.one!.headers, { h: 'x' });
    const md = await confluentKafka(kafka.bootstrap, { op: 'metadata', topic: 'py' });
    assert.equal(Object.keys((md.topics as Record<string, { partitions: object }>).py!.partitions).length, 3);
  });

  it('confluent-kafka reports a failing action without stopping the later ones', async () => {
    const run = await runConfluentKafka(kafka.bootstrap, [
      { op: 'createTopics', topics: [{ name: 'dup' }] },
      { op: 'createTopics', topics: [{ name: 'dup' }] },
      { op: 'deleteTopics', topics: ['dup'] },
    ]);
    assert.deepEqual(run.results.map((r) => r.ok), [true, false, true]);
    assert.match(JSON.stringify(run.results[1]!.topics), /TOPIC_ALREADY_EXISTS/);
    assert.match(run.librdkafka, /^2\./);
  });
});
