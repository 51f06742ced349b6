// The CLI's Kafka client against a real agent: version negotiation, topic administration,
// and the errors a user sees when something is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestBroker } from '../helpers/broker.js';
import { KafkaClient, ResourceType, parseBootstrap } from '../../src/client/client.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { BrokerError, ConnectionError, RequestTimeoutError, UnsupportedApiError } from '../../src/client/errors.js';
import { ApiKey } from '../../src/protocol/generated/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';

test('connect negotiates versions from ApiVersions and refuses APIs the broker does not list', async () => {
  const b = await startTestBroker();
  try {
    const conn = await BrokerConnection.connect({ host: '127.0.0.1', port: b.port });
    assert.ok(conn.supports(ApiKey.Metadata));
    const served = conn.apiVersions.get(ApiKey.Metadata)!;
    assert.equal(conn.version(ApiKey.Metadata, 99), served.max);
    assert.equal(conn.version(ApiKey.Metadata, 1), 1);
    assert.throws(() => conn.version(ApiKey.Vote, 1), UnsupportedApiError);
    conn.close();
  } finally {
    await b.stop();
  }
});

test('topic administration round trip: create, metadata, configs, alter, delete', async () => {
  const b = await startTestBroker();
  const client = new KafkaClient({ bootstrap: b.bootstrap });
  try {
    const [created] = await client.createTopics([{ name: 'orders', partitions: 3, configs: { 'retention.ms': '60000' } }]);
    assert.equal(created.name, 'orders');
    const md = await client.metadata(null);
    assert.equal(md.brokers.length, 1);
    const t = md.topics.find((x) => x.name === 'orders')!;
    assert.equal(t.partitions.length, 3);
    assert.match(t.id, /^[0-9a-f-]{36}$/);

    const configs = await client.describeConfigs(ResourceType.TOPIC, 'orders');
    assert.equal(configs.find((c) => c.name === 'retention.ms')?.value, '60000');
    await client.incrementalAlterConfigs(ResourceType.TOPIC, 'orders', [{ name: 'retention.ms', op: 'set', value: '120000' }]);
    const after = await client.describeConfigs(ResourceType.TOPIC, 'orders', ['retention.ms']);
    assert.equal(after.find((c) => c.name === 'retention.ms')?.value, '120000');

    await assert.rejects(client.createTopics([{ name: 'orders', partitions: 1 }]), (e: unknown) => e instanceof BrokerError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS);
    await client.deleteTopics(['orders']);
    await assert.rejects(client.topic('orders', true), (e: unknown) => e instanceof BrokerError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  } finally {
    await client.close();
    await b.stop();
  }
});

test('an unreachable broker is a ConnectionError that says what to check', async () => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const client = new KafkaClient({ bootstrap: `127.0.0.1:${port}` });
  await assert.rejects(client.connect(), (e: unknown) => e instanceof ConnectionError && /ECONNREFUSED.*--bootstrap-server/.test(e.message));
});

test('a broker that never answers times out with the API named', async () => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    await assert.rejects(BrokerConnection.connect({ host: '127.0.0.1', port, requestTimeoutMs: 200 }), (e: unknown) => e instanceof RequestTimeoutError && /ApiVersions v\d+/.test(e.message));
  } finally {
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('bootstrap lists are parsed and bad ones refused', () => {
  assert.deepEqual(parseBootstrap('a:1, b:2'), [{ host: 'a', port: 1 }, { host: 'b', port: 2 }]);
  assert.deepEqual(parseBootstrap('[::1]:9092'), [{ host: '::1', port: 9092 }]);
  assert.throws(() => parseBootstrap('localhost'), /not host:port/);
  assert.throws(() => parseBootstrap(''), /no bootstrap server/);
});
