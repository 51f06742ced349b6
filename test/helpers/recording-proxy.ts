// A TCP proxy that records the Kafka request frames a real client sends, for golden tests.
import net from 'node:net';
import { FrameReader } from '../../src/server/frame-reader.js';

export interface RecordedFrame {
  apiKey: number;
  apiVersion: number;
  /** The whole frame without its size prefix (header + body), exactly as the client sent it. */
  bytes: Buffer;
}

export interface RecordingProxy {
  port: number;
  frames: RecordedFrame[];
  close(): Promise<void>;
}

/** `target` is read per connection, so the proxy can start before the broker it fronts. */
export async function startRecordingProxy(target: () => number): Promise<RecordingProxy> {
  const frames: RecordedFrame[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target(), '127.0.0.1');
    sockets.add(client).add(upstream);
    const reader = new FrameReader(1 << 30);
    client.on('data', (chunk) => {
      for (const f of reader.push(chunk)) {
        frames.push({ apiKey: f.readInt16BE(0), apiVersion: f.readInt16BE(2), bytes: Buffer.from(f) });
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    frames,
    async close() {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
