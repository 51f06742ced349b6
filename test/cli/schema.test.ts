// streamhouse schema ... against the agent's own schema registry, and consume --format avro.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avsc from 'avsc';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { KafkaClient } from '../../src/client/client.js';
import { frameWithSchemaId } from '../../src/client/registry.js';
import { runCli } from './run.js';

let b: TestBroker;
let reg: string[];
const v1 = JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }] });
const v2 = JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'long' }, { name: 'note', type: 'string', default: '' }] });
const incompatible = JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }] });

before(async () => {
  b = await startTestBroker();
  reg = ['--registry-url', `http://127.0.0.1:${b.agent.registryPort}`];
});
after(async () => {
  await b.stop();
});

test('schema register, get, list and check', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'schema-')), 'v2.avsc');
  writeFileSync(file, v2);
  let r = await runCli(['schema', 'register', 'orders-value', '--schema', v1, '--json', ...reg]);
  assert.equal(r.code, 0, r.stderr);
  const id1 = JSON.parse(r.stdout).id;
  assert.equal(typeof id1, 'number');

  r = await runCli(['schema', 'check', 'orders-value', '--schema-file', file, ...reg]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Compatible/);
  r = await runCli(['schema', 'check', 'orders-value', '--schema', incompatible, ...reg]);
  assert.equal(r.code, 1, 'an incompatible schema exits 1');
  assert.match(r.stdout, /NOT compatible/);

  r = await runCli(['schema', 'register', 'orders-value', '--schema-file', file, ...reg]);
  assert.equal(r.code, 0, r.stderr);
  r = await runCli(['schema', 'get', 'orders-value', '--json', ...reg]);
  assert.equal(r.code, 0, r.stderr);
  const latest = JSON.parse(r.stdout);
  assert.equal(latest.version, 2);
  assert.deepEqual(JSON.parse(latest.schema).fields.map((f: { name: string }) => f.name), ['id', 'note']);
  r = await runCli(['schema', 'get', 'orders-value', '--version', '1', '--json', ...reg]);
  assert.equal(JSON.parse(r.stdout).id, id1);

  r = await runCli(['schema', 'list', ...reg]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /orders-value\s+2\s+2/);

  r = await runCli(['schema', 'get', 'no-such-subject', ...reg]);
  assert.equal(r.code, 3, `not found exits 3: ${r.stderr}`);
});

test('consume --format avro decodes values through the registry', async () => {
  const r = await runCli(['schema', 'register', 'avro-topic-value', '--schema', v1, '--json', ...reg]);
  const id = JSON.parse(r.stdout).id as number;
  const type = avsc.Type.forSchema(JSON.parse(v1));
  const client = new KafkaClient({ bootstrap: b.bootstrap });
  try {
    await client.createTopics([{ name: 'avro-topic', partitions: 1 }]);
    await client.produce('avro-topic', 0, [{ value: frameWithSchemaId(id, type.toBuffer({ id: 7 })) }, { value: frameWithSchemaId(id, type.toBuffer({ id: 8 })) }]);
  } finally {
    await client.close();
  }
  const c = await runCli(['consume', 'avro-topic', '--format', 'avro', '--bootstrap-server', b.bootstrap, ...reg]);
  assert.equal(c.code, 0, c.stderr);
  assert.deepEqual(c.stdout.trim().split('\n').map((l) => JSON.parse(l).value), [{ id: 7 }, { id: 8 }]);
});
