// A Kafka-aware TCP proxy for exactly-once fault tests: it forwards every request to the broker,
// and for chosen Produce requests waits for the broker's answer and then, instead of passing it
// on, cuts the client's connection. The write happened but the client never heard, so it
// retries the same batch: exactly the case idempotence must answer with the original offsets.
// Start it first, then the broker advertising the proxy's port, then call setTarget().
import net from 'node:net';

const PRODUCE = 0;

export interface DroppingProxy {
  port: number;
  /** Produce responses swallowed so far (each one cut a connection). */
  readonly dropped: number;
  /** Produce requests forwarded so far. */
  readonly produces: number;
  setTarget(port: number): void;
  /** Whether the n-th produce request (1-based) seen by the proxy gets its response dropped. */
  setDropRule(rule: (n: number) => boolean): void;
  close(): Promise<void>;
}

/** Splits a byte stream into 4-byte size-prefixed frames. */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 4) {
      const size = buf.readInt32BE(0);
      if (buf.length < 4 + size) break;
      onFrame(buf.subarray(0, 4 + size));
      buf = buf.subarray(4 + size);
    }
  };
}

export async function startDroppingProxy(): Promise<DroppingProxy> {
  let target = 0;
  let rule: (n: number) => boolean = () => false;
  let dropped = 0;
  let produces = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(upstream);
    // Correlation ids of produce requests whose answers must not reach the client.
    const doomed = new Set<number>();
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on(
      'data',
      framer((frame) => {
        const apiKey = frame.readInt16BE(4);
        const correlationId = frame.readInt32BE(8);
        if (apiKey === PRODUCE) {
          produces++;
          if (rule(produces)) doomed.add(correlationId);
        }
        upstream.write(frame);
      }),
    );
    upstream.on(
      'data',
      framer((frame) => {
        const correlationId = frame.readInt32BE(4);
        if (doomed.has(correlationId)) {
          dropped++;
          close();
          return;
        }
        if (!client.destroyed) client.write(frame);
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get dropped() {
      return dropped;
    },
    get produces() {
      return produces;
    },
    setTarget(port) {
      target = port;
    },
    setDropRule(r) {
      rule = r;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
