// Transaction markers in cluster mode: a partition this agent leads gets its marker from the local
// writer; a partition another agent leads gets it over WriteTxnMarkers, as Kafka's coordinator
// sends markers to partition leaders. The coordinator asks for all partitions of a transaction at
// once, so the calls of one transaction bound for one agent are sent as one request.
// A stale view (a leader moved since the last lease round) is answered NOT_LEADER_OR_FOLLOWER by
// the old leader; the error is thrown and the coordinator retries the marker a second later.
import type { ClusterView } from '../../cluster/cluster-view.js';
import type { PeerClients } from '../../cluster/peer-clients.js';
import { ErrorCode, KafkaError, errorName } from '../../protocol/errors.js';
import { WriteTxnMarkersRequestMessage, WriteTxnMarkersResponseMessage } from '../../protocol/generated/index.js';
import type { MarkerWriter } from './txn-coordinator.js';
import type { TxnPartition } from './txn-metadata.js';

type Marker = 'commit' | 'abort';

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

/** The calls of one transaction outcome bound for one node, collected until the current turn ends. */
interface PendingRequest {
  nodeId: number;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  marker: Marker;
  /** topic name → partition → callers (the same partition asked twice is written once). */
  partitions: Map<string, Map<number, Waiter[]>>;
}

export class ClusterMarkerWriter implements MarkerWriter {
  private readonly pending = new Map<string, PendingRequest>();

  constructor(
    private readonly local: MarkerWriter,
    private readonly view: Pick<ClusterView, 'localNodeId' | 'leader' | 'brokers'>,
    private readonly peers: PeerClients,
  ) {}

  writeMarker(p: TxnPartition, producerId: bigint, producerEpoch: number, coordinatorEpoch: number, marker: Marker): Promise<void> {
    let leaderId: number;
    try {
      leaderId = this.view.leader(p.topicId, p.partition).leaderId;
    } catch (err) {
      return Promise.reject(err);
    }
    if (leaderId === this.view.localNodeId) return this.local.writeMarker(p, producerId, producerEpoch, coordinatorEpoch, marker);
    // Enqueued synchronously, so every call made in the same turn (Promise.all over the
    // transaction's partitions) joins the same request.
    return new Promise<void>((resolve, reject) => {
      const key = `${leaderId}|${producerId}|${producerEpoch}|${coordinatorEpoch}|${marker}`;
      let req = this.pending.get(key);
      if (!req) {
        req = { nodeId: leaderId, producerId, producerEpoch, coordinatorEpoch, marker, partitions: new Map() };
        this.pending.set(key, req);
        const batch = req;
        queueMicrotask(() => {
          this.pending.delete(key);
          void this.send(batch);
        });
      }
      let byPartition = req.partitions.get(p.topic);
      if (!byPartition) req.partitions.set(p.topic, (byPartition = new Map()));
      let waiters = byPartition.get(p.partition);
      if (!waiters) byPartition.set(p.partition, (waiters = []));
      waiters.push({ resolve, reject });
    });
  }

  private async send(req: PendingRequest): Promise<void> {
    const what = (topic: string, partition: number) =>
      `${req.marker} marker for producer ${req.producerId} (epoch ${req.producerEpoch}) on ${topic}-${partition} at node ${req.nodeId}`;
    let codes: Map<string, number>;
    try {
      const { response } = await this.peers.request(req.nodeId, WriteTxnMarkersRequestMessage, WriteTxnMarkersResponseMessage, {
        markers: [
          {
            producerId: req.producerId,
            producerEpoch: req.producerEpoch,
            transactionResult: req.marker === 'commit',
            coordinatorEpoch: req.coordinatorEpoch,
            topics: [...req.partitions].map(([name, parts]) => ({ name, partitionIndexes: [...parts.keys()] })),
          },
        ],
      });
      codes = new Map();
      for (const m of response.markers) {
        if (m.producerId !== req.producerId) continue;
        for (const t of m.topics) for (const part of t.partitions) codes.set(`${t.name}\u0000${part.partitionIndex}`, part.errorCode);
      }
    } catch (err) {
      // Unreachable, closed or timed out: every partition of the request failed alike.
      for (const [topic, parts] of req.partitions) {
        for (const [partition, waiters] of parts) {
          const e = new Error(`${what(topic, partition)} not written: ${(err as Error).message}`, { cause: err });
          for (const w of waiters) w.reject(e);
        }
      }
      return;
    }
    for (const [topic, parts] of req.partitions) {
      for (const [partition, waiters] of parts) {
        const code = codes.get(`${topic}\u0000${partition}`);
        let err: KafkaError | null = null;
        if (code === undefined) {
          err = new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `${what(topic, partition)}: the WriteTxnMarkers response has no result for the partition`);
        } else if (code !== ErrorCode.NONE) {
          err = new KafkaError(code, `${what(topic, partition)} refused: ${errorName(code)}${hint(code)}`);
        }
        for (const w of waiters) (err ? w.reject(err) : w.resolve());
      }
    }
  }
}

function hint(code: number): string {
  if (code === ErrorCode.NOT_LEADER_OR_FOLLOWER) return ' (leadership moved; retried once the cluster view refreshes)';
  if (code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return ' (the topic or partition no longer exists there)';
  return '';
}
