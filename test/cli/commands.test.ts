// The admin commands end to end: the built CLI in a child process against a real agent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { runCli } from './run.js';

let b: TestBroker;
let bs: string[];

before(async () => {
  b = await startTestBroker();
  bs = ['--bootstrap-server', b.bootstrap];
});
after(async () => {
  await b.stop();
});

test('topic create, list, describe, alter-config and delete', async () => {
  let r = await runCli(['topic', 'create', 'cli-orders', '--partitions', '3', '--config', 'retention.ms=60000', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Created topic cli-orders \(3 partitions\)/);

  r = await runCli(['topic', 'create', 'cli-orders', ...bs]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /TOPIC_ALREADY_EXISTS/);
  r = await runCli(['topic', 'create', 'cli-orders', '--if-not-exists', ...bs]);
  assert.equal(r.code, 0, r.stderr);

  r = await runCli(['topic', 'list', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^NAME\s+PARTITIONS\s+ID/);
  assert.match(r.stdout, /cli-orders\s+3\s+[0-9a-f-]{36}/);
  r = await runCli(['topic', 'list', '--json', ...bs]);
  const listed = JSON.parse(r.stdout) as Array<{ name: string; partitions: number }>;
  assert.equal(listed.find((t) => t.name === 'cli-orders')?.partitions, 3);

  r = await runCli(['topic', 'alter-config', 'cli-orders', '--set', 'retention.ms=120000', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['topic', 'describe', 'cli-orders', '--json', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  const described = JSON.parse(r.stdout);
  assert.equal(described.partitions.length, 3);
  assert.equal(described.configs['retention.ms'], '120000');
  assert.equal(described.partitions[0].endOffset, 0);

  r = await runCli(['topic', 'delete', 'cli-orders', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['topic', 'describe', 'cli-orders', ...bs]);
  assert.equal(r.code, 3, 'an absent topic exits with the not-found code');
  assert.match(r.stderr, /cli-orders.*UNKNOWN_TOPIC_OR_PARTITION/);
  r = await runCli(['topic', 'delete', 'cli-orders', '--if-exists', ...bs]);
  assert.equal(r.code, 0, r.stderr);
});

test('produce stdin lines with keys, headers and compression, then consume them back', async () => {
  assert.equal((await runCli(['topic', 'create', 'cli-events', '-p', '1', ...bs])).code, 0);
  const lines = Array.from({ length: 25 }, (_, i) => `k${i}:value ${i}`).join('\n') + '\n';
  let r = await runCli(['produce', 'cli-events', '-K', ':', '-H', 'source=cli', '--compression', 'gzip', '--batch-size', '10', '--json', ...bs], { stdin: lines });
  assert.equal(r.code, 0, r.stderr);
  const produced = JSON.parse(r.stdout);
  assert.equal(produced.records, 25);
  assert.deepEqual(produced.batches.map((x: { records: number }) => x.records), [10, 10, 5]);

  r = await runCli(['consume', 'cli-events', '--format', 'json', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(recs.length, 25);
  assert.deepEqual(recs[3], { ...recs[3], offset: 3, key: 'k3', value: 'value 3', headers: { source: 'cli' }, partition: 0, topic: 'cli-events' });

  r = await runCli(['consume', 'cli-events', '--offset', '20', '--limit', '2', '--print-key', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'k20\tvalue 20\nk21\tvalue 21\n');

  r = await runCli(['consume', 'cli-events', '--offset', 'latest', ...bs]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');

  r = await runCli(['consume', 'cli-events', '--timestamp', new Date(Date.now() + 3_600_000).toISOString(), ...bs]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', 'nothing is newer than an hour from now');
});

test('keyed records land on the partition Kafka\'s default partitioner picks', async () => {
  assert.equal((await runCli(['topic', 'create', 'cli-keyed', '-p', '4', ...bs])).code, 0);
  const r = await runCli(['produce', 'cli-keyed', '-K', '=', ...bs], { stdin: 'a=1\nb=2\nc=3\n' });
  assert.equal(r.code, 0, r.stderr);
  const c = await runCli(['consume', 'cli-keyed', '--json', ...bs]);
  const byKey = Object.fromEntries(c.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((x) => [x.key, x.partition]));
  // murmur2 positive-modulo 4, the partitions the Java client computes for these keys.
  assert.deepEqual(byKey, { a: 0, b: 0, c: 2 });
});

test('usage errors exit 2 with the flag named', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['produce', 't', '--acks', '2'], /--acks: expected one of all, -1, 1, 0/],
    [['produce', 't', '--compression', 'brotli'], /--compression: expected one of none, gzip, snappy, lz4, zstd/],
    [['consume', 't', '--limit', 'ten'], /--limit: expected a whole number/],
    [['consume', 't', '--format', 'xml'], /--format: expected one of text, json, avro/],
    [['consume', 't', '--isolation-level', 'dirty'], /--isolation-level: expected one of read_uncommitted, read_committed/],
    [['consume', 't', '--timestamp', 'yesterday'], /--timestamp: expected epoch milliseconds or an ISO-8601 date/],
    [['topic', 'create', 'x', '--partitions', '0'], /--partitions: must be between 1/],
    [['topic', 'create', 'x', '--config', 'retention.ms'], /--config: expected key=value/],
    [['topic', 'alter-config', 'x', ...['--bootstrap-server', '127.0.0.1:1']], /nothing to change/],
    [['group', 'reset-offsets', 'g', '--topic', 't', '--to-earliest', '--to-latest'], /exactly one of --to-earliest/],
    [['group', 'reset-offsets', 'g', '--to-earliest'], /required option '-t, --topic <topic>'/],
    [['schema', 'register', 's'], /exactly one of --schema or --schema-file/],
    [['schema', 'get', 's', '--version', '0'], /--version: must be between 1/],
    [['topic', 'lisst'], /unknown command 'lisst'/],
    [['consume'], /missing required argument 'topic'/],
    [['topic', 'list', '--bogus'], /unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('an unreachable broker exits 1 with the address and the fix', async () => {
  const r = await runCli(['topic', 'list', '--bootstrap-server', '127.0.0.1:1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot connect to 127\.0\.0\.1:1 \(ECONNREFUSED\).*--bootstrap-server/);
});

test('profile list shows every durability profile', async () => {
  const r = await runCli(['profile', 'list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).map((p: { name: string }) => p.name), ['ultra-safe', 'balanced', 'high-throughput', 'glacier']);
  const t = await runCli(['profile', 'list']);
  assert.match(t.stdout, /glacier\s+off\s+in-memory append/);
});
