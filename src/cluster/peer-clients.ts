// Kafka connections from this agent to the other agents of the cluster. Agents talk to each other
// over the Kafka protocol itself (WriteTxnMarkers today, KIP-890 verification later), so this is
// just a pool of `BrokerConnection`s keyed by node id: opened on first use, endpoints read from the
// cluster view at connect time (a node that restarted elsewhere is found again), and dropped when
// they fail so the next use reconnects.
import type { ApiMessageDescriptor } from '../protocol/generated/runtime.js';
import { BrokerConnection } from '../client/connection.js';
import { ConnectionError, RequestTimeoutError } from '../client/errors.js';
import type { BrokerEndpoint } from './cluster-view.js';

/** Where the peers are: `ClusterView` (or `LeaseManager`) fits. */
export interface PeerDirectory {
  readonly localNodeId: number;
  brokers(): BrokerEndpoint[];
}

export interface PeerClientsOptions {
  /** Per request; a peer that does not answer in time is disconnected (it may be paused). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
}

interface Peer {
  host: string;
  port: number;
  /** Shared by every caller while the connect is in flight. */
  conn: Promise<BrokerConnection>;
  /** Set once connected, so close() can close it at once. */
  ready: BrokerConnection | null;
}

export class PeerClients {
  private readonly peers = new Map<number, Peer>();
  private closed = false;

  constructor(
    private readonly directory: PeerDirectory,
    private readonly opts: PeerClientsOptions = {},
  ) {}

  /** An open connection to `nodeId`, opening (or reopening) it if needed. */
  async connection(nodeId: number): Promise<BrokerConnection> {
    if (this.closed) throw new ConnectionError(`peer connections are closed (agent stopping); no request to node ${nodeId}`);
    const endpoint = this.directory.brokers().find((b) => b.nodeId === nodeId);
    if (!endpoint) {
      throw new ConnectionError(`node ${nodeId} is not a live broker in this agent's cluster view; it may have left (the view refreshes every lease round)`);
    }
    let peer = this.peers.get(nodeId);
    if (peer && (peer.host !== endpoint.host || peer.port !== endpoint.port)) {
      // The node re-registered at another address: the old connection leads nowhere useful.
      this.drop(nodeId, peer);
      peer = undefined;
    }
    if (peer) {
      // A connect in flight is shared, and so is its failure (its starter forgets it).
      const conn = await peer.conn;
      if (!conn.closed) return conn;
      this.drop(nodeId, peer);
      // Another caller may already have started the reconnect.
      return this.connection(nodeId);
    }
    const fresh: Peer = { host: endpoint.host, port: endpoint.port, conn: this.open(nodeId, endpoint), ready: null };
    this.peers.set(nodeId, fresh);
    try {
      fresh.ready = await fresh.conn;
      return fresh.ready;
    } catch (err) {
      if (this.peers.get(nodeId) === fresh) this.peers.delete(nodeId);
      throw err;
    }
  }

  /**
   * Sends one request to `nodeId`. A connection that breaks or times out is dropped, so the caller's
   * retry reconnects; Kafka error codes inside the response are the caller's to read.
   */
  async request<Req, Res>(
    nodeId: number,
    req: ApiMessageDescriptor<Req>,
    res: ApiMessageDescriptor<Res>,
    body: Partial<Req>,
    opts: { maxVersion?: number; minVersion?: number } = {},
  ): Promise<{ version: number; response: Res }> {
    const conn = await this.connection(nodeId);
    try {
      return await conn.request(req, res, body, opts);
    } catch (err) {
      // Kafka clients disconnect on a request timeout too; the closed connection is replaced on
      // next use (connection() never hands out a closed one).
      if (err instanceof RequestTimeoutError) conn.close();
      throw err;
    }
  }

  /** Closes every connection; later requests fail. */
  close(): void {
    this.closed = true;
    for (const [nodeId, peer] of [...this.peers]) this.drop(nodeId, peer);
  }

  private async open(nodeId: number, endpoint: BrokerEndpoint): Promise<BrokerConnection> {
    let conn: BrokerConnection;
    try {
      conn = await BrokerConnection.connect({
        host: endpoint.host,
        port: endpoint.port,
        clientId: `streamhouse-agent-${this.directory.localNodeId}`,
        requestTimeoutMs: this.opts.requestTimeoutMs ?? 10_000,
        connectTimeoutMs: this.opts.connectTimeoutMs ?? 5_000,
      });
    } catch (err) {
      throw new ConnectionError(`agent node ${nodeId} at ${endpoint.host}:${endpoint.port} is unreachable: ${(err as Error).message}`);
    }
    if (this.closed) {
      conn.close();
      throw new ConnectionError(`peer connections closed while connecting to node ${nodeId}`);
    }
    return conn;
  }

  private drop(nodeId: number, peer: Peer): void {
    if (this.peers.get(nodeId) === peer) this.peers.delete(nodeId);
    if (peer.ready) peer.ready.close();
    else peer.conn.then((c) => c.close(), () => undefined);
  }
}
