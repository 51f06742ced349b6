// One TCP connection to one broker: frames out with correlation ids, responses matched back by
// id, a timeout per request, and ApiVersions negotiation on connect so every later request uses
// a version both sides speak. Built on the generated codec, like the broker itself.
import net from 'node:net';
import { Reader, Writer } from '../protocol/primitives.js';
import { isFlexibleVersion, type ApiMessageDescriptor } from '../protocol/generated/runtime.js';
import { ApiVersionsRequestMessage, ApiVersionsResponseMessage, ApiKey } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/errors.js';
import { FrameReader } from '../server/frame-reader.js';
import { apiName } from '../observability/metrics.js';
import { ConnectionError, RequestTimeoutError, UnsupportedApiError } from './errors.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId?: string;
  /** Per request (request.timeout.ms); long-polled fetches add their wait to it. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  maxResponseBytes?: number;
}

interface Pending {
  resolve(frame: Reader): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  what: string;
}

export interface VersionRange {
  min: number;
  max: number;
}

export class BrokerConnection {
  private readonly frames: FrameReader;
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private closedWith: Error | null = null;
  /** What the broker serves, from ApiVersions; APIs it does not list are never sent. */
  readonly apiVersions = new Map<number, VersionRange>();
  readonly address: string;

  private constructor(
    private readonly socket: net.Socket,
    private readonly opts: Required<ConnectionOptions>,
  ) {
    this.address = `${opts.host}:${opts.port}`;
    this.frames = new FrameReader(opts.maxResponseBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new ConnectionError(`connection to ${this.address} failed: ${err.message}`)));
    socket.on('close', () => this.fail(new ConnectionError(`broker ${this.address} closed the connection`)));
  }

  static async connect(options: ConnectionOptions): Promise<BrokerConnection> {
    const opts: Required<ConnectionOptions> = {
      clientId: 'streamhouse-cli',
      requestTimeoutMs: 30_000,
      connectTimeoutMs: 10_000,
      maxResponseBytes: 256 * 1024 * 1024,
      ...(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ConnectionOptions),
    };
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: opts.host, port: opts.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new ConnectionError(`no connection to ${opts.host}:${opts.port} within ${opts.connectTimeoutMs} ms: check --bootstrap-server and that the broker is running`));
      }, opts.connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const hint = err.code === 'ECONNREFUSED' ? ': is `streamhouse serve` running there? pass --bootstrap-server host:port' : '';
        reject(new ConnectionError(`cannot connect to ${opts.host}:${opts.port} (${err.code ?? err.message})${hint}`));
      });
    });
    const conn = new BrokerConnection(socket, opts);
    try {
      await conn.negotiateVersions();
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  /**
   * ApiVersions at our newest version; a broker that does not know it answers in the v0 layout
   * with UNSUPPORTED_VERSION and its ranges, and we retry at the highest version it lists.
   */
  private async negotiateVersions(): Promise<void> {
    let version = ApiVersionsRequestMessage.validVersions.max;
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await this.send(ApiVersionsRequestMessage, ApiVersionsResponseMessage, version, {
        clientSoftwareName: 'streamhouse-cli',
        clientSoftwareVersion: '0.1.0',
      });
      for (const k of res.apiKeys) this.apiVersions.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
      if (res.errorCode === ErrorCode.NONE) return;
      const theirs = this.apiVersions.get(ApiKey.ApiVersions);
      if (res.errorCode !== ErrorCode.UNSUPPORTED_VERSION || !theirs) break;
      version = Math.min(theirs.max, ApiVersionsRequestMessage.validVersions.max);
    }
    throw new ConnectionError(`broker ${this.address} refused ApiVersions: is this a Kafka broker?`);
  }

  /** The highest version of `apiKey` both we and the broker speak, capped at `ourMax`. */
  version(apiKey: number, ourMax: number, ourMin = 0): number {
    const theirs = this.apiVersions.get(apiKey);
    if (!theirs) throw new UnsupportedApiError(`broker ${this.address} does not serve ${apiName(apiKey)} (API key ${apiKey})`);
    const v = Math.min(theirs.max, ourMax);
    if (v < Math.max(theirs.min, ourMin)) {
      throw new UnsupportedApiError(`broker ${this.address} serves ${apiName(apiKey)} v${theirs.min}-${theirs.max}; this client speaks v${ourMin}-${ourMax}`);
    }
    return v;
  }

  supports(apiKey: number): boolean {
    return this.apiVersions.has(apiKey);
  }

  /** Sends a request at the negotiated version and decodes the response. */
  async request<Req, Res>(
    req: ApiMessageDescriptor<Req>,
    res: ApiMessageDescriptor<Res>,
    body: Partial<Req>,
    opts: { maxVersion?: number; minVersion?: number; extraTimeoutMs?: number } = {},
  ): Promise<{ version: number; response: Res }> {
    const version = this.version(req.apiKey, opts.maxVersion ?? req.validVersions.max, opts.minVersion ?? 0);
    const response = await this.send(req, res, version, body, opts.extraTimeoutMs);
    return { version, response };
  }

  /** Sends a request that the protocol answers with nothing (Produce with acks=0). */
  sendOnly<Req>(req: ApiMessageDescriptor<Req>, version: number, body: Partial<Req>): void {
    if (this.closedWith) throw this.closedWith;
    this.socket.write(this.encode(req, version, this.nextCorrelationId++, { ...req.create(), ...body } as Req));
  }

  private async send<Req, Res>(req: ApiMessageDescriptor<Req>, res: ApiMessageDescriptor<Res>, version: number, body: Partial<Req>, extraTimeoutMs = 0): Promise<Res> {
    if (this.closedWith) throw this.closedWith;
    const correlationId = this.nextCorrelationId++;
    const frame = this.encode(req, version, correlationId, { ...req.create(), ...body } as Req);
    const what = `${apiName(req.apiKey)} v${version}`;
    const reader = await new Promise<Reader>((resolve, reject) => {
      const timeoutMs = this.opts.requestTimeoutMs + extraTimeoutMs;
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new RequestTimeoutError(`${what} to ${this.address} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer, what });
      this.socket.write(frame);
    });
    // ApiVersions responses always use header v0 so any client can read them.
    if (req.apiKey !== ApiKey.ApiVersions && isFlexibleVersion(res, version)) reader.taggedFields();
    const out = res.decode(reader, version);
    if (reader.error) throw new ConnectionError(`malformed ${what} response from ${this.address}: ${reader.error}`);
    return out;
  }

  private encode<Req>(req: ApiMessageDescriptor<Req>, version: number, correlationId: number, body: Req): Buffer {
    const w = new Writer(256);
    const at = w.markSize();
    w.int16(req.apiKey);
    w.int16(version);
    w.int32(correlationId);
    w.nullableString(this.opts.clientId);
    if (isFlexibleVersion(req, version)) w.uvarint(0);
    req.encode(w, body, version);
    w.fillSize(at);
    return w.finish();
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (err) {
      this.fail(new ConnectionError(`bad response frame from ${this.address}: ${(err as Error).message}`));
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      const r = new Reader(frame);
      const id = r.int32();
      const p = this.pending.get(id);
      if (!p) continue; // a request that already timed out
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.resolve(r);
    }
  }

  private fail(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ConnectionError(`${p.what}: ${err.message}`));
    }
    this.pending.clear();
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  close(): void {
    this.fail(new ConnectionError(`connection to ${this.address} closed by the client`));
    this.socket.destroy();
  }
}
