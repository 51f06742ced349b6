// Connection behaviour with a controllable dispatcher: the queue bound, ordering when later
// requests finish first, no-response requests, and cleanup on disconnect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { KafkaServer } from '../../src/server/server.js';
import type { Dispatcher } from '../../src/server/dispatcher.js';
import { silentLogger } from '../../src/observability/logger.js';
import { RawClient } from '../helpers/raw-client.js';

interface Pending {
  id: number;
  signal: AbortSignal;
  resolve(reply: Buffer | null): void;
}

function stubDispatcher() {
  const pending: Pending[] = [];
  const d = {
    async dispatch(frame: Buffer, conn: { signal: AbortSignal }): Promise<Buffer | null> {
      const id = frame.readInt32BE(0);
      return new Promise((resolve) => pending.push({ id, signal: conn.signal, resolve }));
    },
  };
  return { dispatcher: d as unknown as Dispatcher, pending };
}

function frame(id: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(4, 0);
  b.writeInt32BE(id, 4);
  return b;
}
function reply(id: number): Buffer {
  return frame(id);
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function serve(maxQueuedRequests: number) {
  const { dispatcher, pending } = stubDispatcher();
  const server = new KafkaServer(dispatcher, { host: '127.0.0.1', port: 0, maxFrameBytes: 1024, maxQueuedRequests, idleTimeoutMs: 0 }, silentLogger());
  const { port } = await server.listen();
  return { server, port, pending };
}

test('no more than maxQueuedRequests run at once; the rest start as answers leave', async () => {
  const { server, port, pending } = await serve(3);
  const c = await RawClient.connect(port);
  c.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => frame(i + 1))));
  await until(() => pending.length === 3);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(pending.length, 3, 'the fourth request waits');
  pending[0].resolve(reply(1));
  assert.equal((await c.nextFrame())!.readInt32BE(0), 1);
  await until(() => pending.length === 4);
  for (let i = 1; i < 10; i++) {
    await until(() => pending.length > i);
    pending[i].resolve(reply(i + 1));
  }
  for (let i = 2; i <= 10; i++) assert.equal((await c.nextFrame())!.readInt32BE(0), i);
  c.close();
  await server.close(100);
});

test('responses leave in request order even when later requests finish first', async () => {
  const { server, port, pending } = await serve(16);
  const c = await RawClient.connect(port);
  c.write(Buffer.concat([frame(1), frame(2), frame(3)]));
  await until(() => pending.length === 3);
  pending[2].resolve(reply(3));
  pending[1].resolve(null); // e.g. acks=0 produce: nothing is sent
  await new Promise((r) => setTimeout(r, 30));
  pending[0].resolve(reply(1));
  assert.equal((await c.nextFrame())!.readInt32BE(0), 1);
  assert.equal((await c.nextFrame())!.readInt32BE(0), 3);
  c.close();
  await server.close(100);
});

test('a disconnect aborts in-flight requests and forgets them', async () => {
  const { server, port, pending } = await serve(16);
  const c = await RawClient.connect(port);
  c.write(Buffer.concat([frame(1), frame(2)]));
  await until(() => pending.length === 2);
  c.close();
  await until(() => pending[0].signal.aborted);
  assert.equal(server.connectionCount, 0);
  pending.forEach((p) => p.resolve(reply(p.id))); // late answers go nowhere and throw nothing
  await server.close(100);
});

test('graceful close answers in-flight requests before closing the socket', async () => {
  const { server, port, pending } = await serve(16);
  const c = await RawClient.connect(port);
  c.write(frame(7));
  await until(() => pending.length === 1);
  const closing = server.close(2000);
  setTimeout(() => pending[0].resolve(reply(7)), 50);
  assert.equal((await c.nextFrame())!.readInt32BE(0), 7);
  await closing;
  assert.equal(await c.waitClosed(1000), true);
  await assert.rejects(new Promise((resolve, reject) => net.connect(port, '127.0.0.1').on('connect', resolve).on('error', reject)));
});
