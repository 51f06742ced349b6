// The malformed-input corpus over a real socket: each input gets an error response or a closed
// connection, and the broker keeps serving other connections.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  ApiVersionsRequestMessage,
  ApiVersionsResponseMessage,
  MetadataRequestMessage,
  MetadataResponseMessage,
  createApiVersionsRequest,
  createMetadataRequest,
} from '../../src/protocol/generated/index.js';
import { Reader } from '../../src/protocol/primitives.js';

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
});
after(async () => {
  await broker.stop();
});

function sized(body: Buffer): Buffer {
  const b = Buffer.alloc(4 + body.length);
  b.writeInt32BE(body.length, 0);
  body.copy(b, 4);
  return b;
}

function header(apiKey: number, version: number, correlationId: number, rest: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(10);
  h.writeInt16BE(apiKey, 0);
  h.writeInt16BE(version, 2);
  h.writeInt32BE(correlationId, 4);
  h.writeInt16BE(-1, 8); // null client id
  return Buffer.concat([h, rest]);
}

async function expectClosed(bytes: Buffer, what: string): Promise<void> {
  const c = await RawClient.connect(broker.port);
  c.write(bytes);
  assert.equal(await c.waitClosed(3000), true, `${what}: the broker should close the connection`);
}

async function assertStillServing(): Promise<void> {
  const c = await RawClient.connect(broker.port);
  const res = await c.request(ApiVersionsRequestMessage, ApiVersionsResponseMessage, 3, {
    ...createApiVersionsRequest(),
    clientSoftwareName: 'probe',
    clientSoftwareVersion: '1.0',
  });
  assert.equal(res.errorCode, 0);
  c.close();
}

const corpus: Array<[string, Buffer]> = [
  ['huge size', Buffer.from([0x7f, 0xff, 0xff, 0xff])],
  ['size just above the limit', (() => { const b = Buffer.alloc(4); b.writeInt32BE(100 * 1024 * 1024 + 1, 0); return b; })()],
  ['negative size', Buffer.from([0xff, 0xff, 0xff, 0xfe])],
  ['HTTP request on the Kafka port', Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')],
  ['TLS ClientHello on the Kafka port', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03])],
  ['unknown API key', sized(header(999, 0, 1))],
  ['API key not served (LeaderAndIsr)', sized(header(4, 0, 1))],
  ['version beyond the spec (Metadata v99)', sized(header(3, 99, 1))],
  ['header cut short', sized(Buffer.from([0, 3, 0]))],
  ['Metadata v1 with a negative array length', sized(header(3, 1, 7, Buffer.from([0xff, 0xff, 0xff, 0xf0])))],
  ['Metadata v1 with an array longer than the frame', sized(header(3, 1, 7, Buffer.from([0x00, 0xff, 0xff, 0xff])))],
  ['Metadata v1 topic name longer than the frame', sized(header(3, 1, 7, Buffer.from([0, 0, 0, 1, 0x7f, 0xff, 0x61])))],
  ['Metadata v9 with a bad compact length', sized(header(3, 9, 7, Buffer.from([0x00, 0xff, 0xff, 0xff, 0xff, 0x0f])))],
];

for (const [name, bytes] of corpus) {
  test(`malformed: ${name} closes the connection and the broker keeps serving`, async () => {
    await expectClosed(bytes, name);
    await assertStillServing();
  });
}

test('a frame cut by a disconnect leaves nothing behind', async () => {
  const c = await RawClient.connect(broker.port);
  const full = RawClient.encodeRequest(MetadataRequestMessage, 1, { ...createMetadataRequest(), topics: [] }, 1);
  c.write(full.subarray(0, full.length - 3));
  c.close();
  await new Promise((r) => setTimeout(r, 100));
  await assertStillServing();
});

test('ApiVersions at an unknown version is answered in the v0 layout with error 35 and the ranges', async () => {
  const c = await RawClient.connect(broker.port);
  const body = Buffer.concat([header(18, 77, 42), Buffer.from([0x00])]);
  c.write(sized(body));
  const frame = await c.nextFrame();
  assert.ok(frame);
  const r = new Reader(frame);
  assert.equal(r.int32(), 42); // correlation id, response header v0
  const res = ApiVersionsResponseMessage.decode(r, 0);
  assert.equal(r.error, null);
  assert.equal(res.errorCode, 35);
  const metadata = res.apiKeys.find((k) => k.apiKey === 3);
  assert.deepEqual(metadata && [metadata.minVersion, metadata.maxVersion], [0, 12]);
  // The client then retries at a listed version on the same connection.
  const ok = await c.request(ApiVersionsRequestMessage, ApiVersionsResponseMessage, 0, createApiVersionsRequest());
  assert.equal(ok.errorCode, 0);
  c.close();
});

test('ApiVersions v3 with an invalid client software name answers INVALID_REQUEST', async () => {
  const c = await RawClient.connect(broker.port);
  const res = await c.request(ApiVersionsRequestMessage, ApiVersionsResponseMessage, 3, {
    ...createApiVersionsRequest(),
    clientSoftwareName: '-bad name!',
    clientSoftwareVersion: '1.0',
  });
  assert.equal(res.errorCode, 42);
  c.close();
});

test('pipelined requests are answered in request order', async () => {
  const c = await RawClient.connect(broker.port);
  const frames: Buffer[] = [];
  for (let i = 1; i <= 50; i++) {
    const req = i % 2
      ? RawClient.encodeRequest(MetadataRequestMessage, 4, { ...createMetadataRequest(), topics: null }, i)
      : RawClient.encodeRequest(ApiVersionsRequestMessage, 2, createApiVersionsRequest(), i);
    frames.push(req);
  }
  c.write(Buffer.concat(frames));
  for (let i = 1; i <= 50; i++) {
    const f = await c.nextFrame();
    assert.ok(f);
    assert.equal(f.readInt32BE(0), i);
  }
  c.close();
});

test('many connections sending garbage do not stop a well-behaved client', async () => {
  const bad = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(broker.port)));
  bad.forEach((c, i) => c.write(i % 2 ? Buffer.from([0xff, 0xff, 0xff, 0xff]) : Buffer.from('\x00\x00\x00\x10garbage')));
  const c = await RawClient.connect(broker.port);
  const res = await c.request(MetadataRequestMessage, MetadataResponseMessage, 1, { ...createMetadataRequest(), topics: null });
  assert.equal(res.brokers.length, 1);
  c.close();
  bad.forEach((b) => b.close());
});

test('partial frames cost only the bytes that arrived, and idle connections are closed', async () => {
  const idle = await startTestBroker({ connectionsMaxIdleMs: 300 });
  const c = await RawClient.connect(idle.port);
  // Announce a 90 MiB frame and send 1 MiB of it: the broker holds 1 MiB, not 90.
  const head = Buffer.alloc(4);
  head.writeInt32BE(90 * 1024 * 1024, 0);
  const before = process.memoryUsage().arrayBuffers;
  c.write(Buffer.concat([head, Buffer.alloc(1024 * 1024)]));
  await new Promise((r) => setTimeout(r, 100));
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 16 * 1024 * 1024, `buffers grew by ${grown} bytes`);
  // No more bytes: after connections.max.idle.ms the broker closes the connection.
  assert.equal(await c.waitClosed(3000), true);
  assert.equal(idle.agent.context.cluster.brokers().length, 1);
  await idle.stop();
});
