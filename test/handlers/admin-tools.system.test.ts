// Kafka's own admin tools (kafka-topics, kafka-configs, kafka-log-dirs from Kafka 4.4) against
// the topic and config handlers: what operators actually type.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { kafkaTool, runKafkaTool, type RunResult } from '../helpers/kafka-tools.js';

const LOG_DIRS_COMMAND = 'org.apache.kafka.tools.LogDirsCommand';
const opts = { timeoutMs: 90_000 };

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
});
after(async () => {
  await broker.stop();
});

const server = () => ['--bootstrap-server', broker.bootstrap];
const topics = (...args: string[]) => kafkaTool.TopicCommand([...server(), ...args], opts);
const configs = (...args: string[]) => kafkaTool.ConfigCommand([...server(), ...args], opts);

function ok(r: RunResult): string {
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.stdout;
}

test('kafka-topics creates (replication factor 3 accepted), describes, grows and deletes a topic', async () => {
  assert.match(ok(await topics('--create', '--topic', 'tool-topic', '--partitions', '2', '--replication-factor', '3', '--config', 'retention.ms=5000')), /Created topic tool-topic/);
  const described = ok(await topics('--describe', '--topic', 'tool-topic'));
  assert.match(described, /PartitionCount: 2/);
  assert.match(described, /Configs: retention.ms=5000/);
  ok(await topics('--alter', '--topic', 'tool-topic', '--partitions', '4'));
  assert.equal((await broker.agent.context.topics.get('tool-topic'))?.partitions, 4);
  const shrink = await topics('--alter', '--topic', 'tool-topic', '--partitions', '1');
  assert.notEqual(shrink.code, 0);
  assert.match(shrink.stdout + shrink.stderr, /InvalidPartitionsException: .*partitions can only be added/);
  const tooMany = await topics('--create', '--topic', 'tool-rf', '--replication-factor', '4');
  assert.notEqual(tooMany.code, 0);
  assert.match(tooMany.stdout + tooMany.stderr, /InvalidReplicationFactorException/);
  ok(await topics('--delete', '--topic', 'tool-topic'));
  assert.doesNotMatch(ok(await topics('--list')), /tool-topic/);
});

test('kafka-configs alters and describes topic configs, including durability.profile', async () => {
  ok(await topics('--create', '--topic', 'tool-configs'));
  ok(await configs('--entity-type', 'topics', '--entity-name', 'tool-configs', '--alter', '--add-config', 'cleanup.policy=[delete,compact],durability.profile=glacier'));
  const dynamic = ok(await configs('--entity-type', 'topics', '--entity-name', 'tool-configs', '--describe'));
  assert.match(dynamic, /cleanup.policy=delete,compact/);
  assert.match(dynamic, /durability.profile=glacier/);
  assert.doesNotMatch(dynamic, /segment.bytes/, 'a default that follows the profile is not a dynamic config');
  const all = ok(await configs('--entity-type', 'topics', '--entity-name', 'tool-configs', '--describe', '--all'));
  assert.match(all, /retention.ms=604800000 .*DEFAULT_CONFIG:log.retention.ms=604800000/);
  assert.match(all, /segment.bytes=104857600/);
  ok(await configs('--entity-type', 'topics', '--entity-name', 'tool-configs', '--alter', '--delete-config', 'durability.profile'));
  assert.deepEqual((await broker.agent.context.topics.get('tool-configs'))?.configs, { 'cleanup.policy': 'delete,compact' });
  const bad = await configs('--entity-type', 'topics', '--entity-name', 'tool-configs', '--alter', '--add-config', 'retention.ms=soon');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stdout + bad.stderr, /InvalidConfigurationException: retention.ms must be an integer, got 'soon'/);
});

test('kafka-configs describes the broker and refuses to change it', async () => {
  const all = ok(await configs('--entity-type', 'brokers', '--entity-name', '0', '--describe', '--all'));
  assert.match(all, /num.partitions=1 /);
  assert.match(all, /log.retention.ms=604800000 /);
  assert.match(all, /durability.profile=balanced /);
  const change = await configs('--entity-type', 'brokers', '--entity-name', '0', '--alter', '--add-config', 'log.retention.ms=1000');
  assert.notEqual(change.code, 0);
  assert.match(change.stdout + change.stderr, /Cannot update these configs dynamically: log.retention.ms/);
});

test('kafka-log-dirs describes the data directory and its partitions', async () => {
  ok(await topics('--create', '--topic', 'tool-dirs', '--partitions', '2'));
  const out = ok(await runKafkaTool(LOG_DIRS_COMMAND, [...server(), '--describe', '--topic-list', 'tool-dirs'], opts));
  const json = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!);
  const dir = json.brokers[0].logDirs[0];
  assert.equal(dir.logDir, broker.dataDir);
  assert.equal(dir.error, null);
  assert.deepEqual(dir.partitions.map((p: { partition: string }) => p.partition).sort(), ['tool-dirs-0', 'tool-dirs-1']);
});
