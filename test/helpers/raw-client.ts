// A bare Kafka wire client for tests: sends raw frames or generated requests, reads response
// frames, and reports when the broker closes the connection.
import net from 'node:net';
import { Reader, Writer } from '../../src/protocol/primitives.js';
import { FrameReader } from '../../src/server/frame-reader.js';
import { isFlexibleVersion, type ApiMessageDescriptor } from '../../src/protocol/generated/runtime.js';

export class RawClient {
  private readonly frames = new FrameReader(1 << 30);
  private readonly received: Buffer[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  private correlation = 1;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.received.push(...this.frames.push(chunk));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Next response frame (without the size), or null if the broker closed the connection. */
  async nextFrame(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error('timed out waiting for a response frame');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return this.received.shift()!;
  }

  /** Resolves true once the broker has closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  /** Encodes a request with its header (v1 or v2 as the version requires) into a frame. */
  static encodeRequest<T>(codec: ApiMessageDescriptor<T>, version: number, body: T, correlationId: number, clientId: string | null = 'raw-test'): Buffer {
    const w = new Writer();
    const at = w.markSize();
    w.int16(codec.apiKey);
    w.int16(version);
    w.int32(correlationId);
    w.nullableString(clientId);
    if (isFlexibleVersion(codec, version)) w.uvarint(0);
    codec.encode(w, body, version);
    w.fillSize(at);
    return Buffer.from(w.finish());
  }

  /** Sends a request and decodes its response (header v0/v1 as the protocol says). */
  async request<Req, Res>(req: ApiMessageDescriptor<Req>, res: ApiMessageDescriptor<Res>, version: number, body: Req): Promise<Res> {
    const id = this.correlation++;
    this.write(RawClient.encodeRequest(req, version, body, id));
    const frame = await this.nextFrame();
    if (!frame) throw new Error('connection closed instead of a response');
    const r = new Reader(frame);
    const cid = r.int32();
    if (cid !== id) throw new Error(`correlation id ${cid}, expected ${id}`);
    if (req.apiKey !== 18 && isFlexibleVersion(res, version)) r.taggedFields();
    const out = res.decode(r, version);
    r.check();
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}
