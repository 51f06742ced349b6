// WriteTxnMarkers (key 27), versions 0-1.
// Writes a commit or abort marker for a producer to each listed partition. Kafka's coordinators
// send it to partition leaders; `kafka-transactions.sh abort` sends it directly to end a hanging
// transaction. Each marker is checked against the partition's producer state first: an older
// producer epoch is INVALID_PRODUCER_EPOCH, an older coordinator epoch TRANSACTION_COORDINATOR_FENCED.
// A partition that does not exist is UNKNOWN_TOPIC_OR_PARTITION; a log this agent no longer leads
// answers NOT_LEADER_OR_FOLLOWER (from the log). A marker for a producer with no open transaction
// on the partition is written anyway, as Kafka does (it only advances the coordinator epoch).
// Consumer offsets staged by a transaction live in the transaction coordinator, not in an offsets
// topic, so a marker here never applies offsets: only EndTxn does.
import {
  WriteTxnMarkersRequestMessage,
  WriteTxnMarkersResponseMessage,
  createWriteTxnMarkersResponse,
  type WriteTxnMarkersRequest,
  type WriteTxnMarkersResponse,
} from '../protocol/generated/index.js';
import type { WritableTxnMarker } from '../protocol/generated/WriteTxnMarkersRequest.js';
import type { WritableTxnMarkerResult } from '../protocol/generated/WriteTxnMarkersResponse.js';
import { ErrorCode, KafkaError, kafkaError } from '../protocol/errors.js';
import { buildControlBatch } from '../protocol/records/index.js';
import type { BrokerContext } from './context.js';
import { defineHandler } from './types.js';

async function writeOne(b: BrokerContext, m: WritableTxnMarker, topicName: string, partition: number): Promise<number> {
  const topic = await b.topics.get(topicName);
  if (!topic || partition < 0 || partition >= topic.partitions) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  try {
    if (!b.logs) throw kafkaError('NOT_LEADER_OR_FOLLOWER', 'no partition logs run on this broker');
    const log = await b.logs.partition(topic, partition);
    if (!log.appendControl) throw kafkaError('NOT_LEADER_OR_FOLLOWER', 'this partition log cannot take transaction markers');
    b.producers?.peek(topic.id, partition)?.checkMarker(m.producerId, m.producerEpoch, m.coordinatorEpoch);
    const marker = m.transactionResult ? 'commit' : 'abort';
    await log.appendControl(buildControlBatch({ marker, producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: m.coordinatorEpoch }));
    return ErrorCode.NONE;
  } catch (err) {
    if (err instanceof KafkaError) return err.code;
    throw err;
  }
}

function everyPartition(m: WritableTxnMarker, code: number): WritableTxnMarkerResult {
  return {
    producerId: m.producerId,
    topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode: code })) })),
  };
}

export function writeTxnMarkersHandler(b: BrokerContext) {
  return defineHandler<WriteTxnMarkersRequest, WriteTxnMarkersResponse>({
    request: WriteTxnMarkersRequestMessage,
    response: WriteTxnMarkersResponseMessage,
    minVersion: 0,
    maxVersion: 1,
    async handle(req) {
      const markers: WritableTxnMarkerResult[] = [];
      for (const m of req.markers) {
        const topics = [];
        for (const t of m.topics) {
          // The partitions of one marker are independent logs: write them concurrently.
          const codes = await Promise.all(t.partitionIndexes.map((p) => writeOne(b, m, t.name, p)));
          topics.push({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex, i) => ({ partitionIndex, errorCode: codes[i]! })) });
        }
        markers.push({ producerId: m.producerId, topics });
      }
      return { ...createWriteTxnMarkersResponse(), markers };
    },
    errorResponse: (req, code) => ({ ...createWriteTxnMarkersResponse(), markers: req.markers.map((m) => everyPartition(m, code)) }),
  });
}
