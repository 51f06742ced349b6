// The Kafka TCP listener. Knows framing and dispatch only; everything Kafka-specific lives in
// the handlers behind the Dispatcher.
import net from 'node:net';
import { Connection, type ConnectionLimits, type TrafficHook } from './connection.js';
import type { Dispatcher } from './dispatcher.js';
import type { Logger } from '../observability/logger.js';

export interface KafkaServerOptions extends ConnectionLimits {
  host: string;
  port: number;
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  maxFrameBytes: 100 * 1024 * 1024, // socket.request.max.bytes
  maxQueuedRequests: 256,
  idleTimeoutMs: 600_000, // connections.max.idle.ms
};

export class KafkaServer {
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  onConnectionCountChange?: (count: number) => void;
  /** Byte counters for metrics; read when a connection is accepted. */
  traffic?: TrafficHook;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly options: KafkaServerOptions,
    private readonly log: Logger,
  ) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  private accept(socket: net.Socket): void {
    const conn = new Connection(socket, this.dispatcher, this.options, this.log, (c) => {
      this.connections.delete(c);
      this.onConnectionCountChange?.(this.connections.size);
    }, this.traffic);
    this.connections.add(conn);
    this.onConnectionCountChange?.(this.connections.size);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(host = this.options.host): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as net.AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  /**
   * Graceful stop: refuse new connections, stop reading new requests, let in-flight ones answer
   * (up to `drainMs`), then close every socket.
   */
  async close(drainMs = 5_000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.connections) c.stopReading();
    await Promise.all([...this.connections].map((c) => c.drain(drainMs)));
    for (const c of this.connections) c.destroy();
    await closed;
  }
}
