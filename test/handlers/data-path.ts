// Shared helpers of the Produce / Fetch / ListOffsets tests: topic creation with configs, a raw
// Fetch that decodes the records, and a kafkajs producer factory.
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { TestBroker } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  FetchRequestMessage,
  FetchResponseMessage,
  ListOffsetsRequestMessage,
  ListOffsetsResponseMessage,
  createFetchRequest,
  createListOffsetsRequest,
  type FetchResponse,
} from '../../src/protocol/generated/index.js';
import { readBatchRecords, BatchHeader, type BatchRecord } from '../../src/protocol/records/index.js';
import type { TopicRecord } from '../../src/metadata/types.js';

export async function createTopic(broker: TestBroker, name: string, partitions = 1, configs: Record<string, string> = {}): Promise<TopicRecord> {
  return broker.agent.context.topics.create({ name, partitions, configs });
}

export function kafka(broker: TestBroker, clientId = 'data-path-test'): Kafka {
  return new Kafka({ clientId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
}

export async function producer(broker: TestBroker, opts: Parameters<Kafka['producer']>[0] = {}): Promise<Producer> {
  const p = kafka(broker).producer({ allowAutoTopicCreation: false, ...opts });
  await p.connect();
  return p;
}

export interface FetchOptions {
  version?: number;
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  partitionMaxBytes?: number;
  isolationLevel?: number;
  currentLeaderEpoch?: number;
  topicId?: string;
}

export function fetchRequest(topic: string, partition: number, offset: bigint, o: FetchOptions = {}) {
  return {
    ...createFetchRequest(),
    maxWaitMs: o.maxWaitMs ?? 0,
    minBytes: o.minBytes ?? 1,
    maxBytes: o.maxBytes ?? 0x7fffffff,
    isolationLevel: o.isolationLevel ?? 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        topicId: o.topicId ?? '00000000-0000-0000-0000-000000000000',
        partitions: [
          {
            partition,
            currentLeaderEpoch: o.currentLeaderEpoch ?? -1,
            fetchOffset: offset,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: o.partitionMaxBytes ?? 1024 * 1024,
            replicaDirectoryId: '00000000-0000-0000-0000-000000000000',
          },
        ],
      },
    ],
  };
}

export async function rawFetch(raw: RawClient, topic: string, partition: number, offset: bigint, o: FetchOptions = {}): Promise<FetchResponse> {
  return raw.request(FetchRequestMessage, FetchResponseMessage, o.version ?? 11, fetchRequest(topic, partition, offset, o));
}

/** Every record of a records field (whole batches only). */
export async function decodeAll(records: Buffer | null): Promise<BatchRecord[]> {
  const out: BatchRecord[] = [];
  if (!records) return out;
  let pos = 0;
  while (pos + 61 <= records.length) {
    const h = new BatchHeader(records, pos);
    if (pos + h.sizeInBytes > records.length) break;
    out.push(...(await readBatchRecords(records.subarray(pos, pos + h.sizeInBytes), { maxUncompressedBytes: 64 << 20 })));
    pos += h.sizeInBytes;
  }
  return out;
}

/** Batch headers of a records field. */
export function batchHeaders(records: Buffer | null): BatchHeader[] {
  const out: BatchHeader[] = [];
  if (!records) return out;
  let pos = 0;
  while (pos + 61 <= records.length) {
    const h = new BatchHeader(records, pos);
    out.push(h);
    pos += h.sizeInBytes;
  }
  return out;
}

/** Reads every record of a partition from `from` up to the high watermark. */
export async function readAll(raw: RawClient, topic: string, partition: number, from = 0n): Promise<BatchRecord[]> {
  const out: BatchRecord[] = [];
  let offset = from;
  for (;;) {
    const res = await rawFetch(raw, topic, partition, offset);
    const p = res.responses[0].partitions[0];
    if (p.errorCode !== 0) throw new Error(`fetch error ${p.errorCode} at offset ${offset}`);
    const recs = (await decodeAll(p.records)).filter((r) => r.offset >= offset);
    if (recs.length === 0) {
      if (offset >= p.highWatermark) return out;
      throw new Error(`no records at ${offset} below the high watermark ${p.highWatermark}`);
    }
    out.push(...recs);
    offset = recs[recs.length - 1].offset + 1n;
  }
}

export async function listOffset(raw: RawClient, topic: string, partition: number, timestamp: bigint, version = 9, isolationLevel = 0) {
  const res = await raw.request(ListOffsetsRequestMessage, ListOffsetsResponseMessage, version, {
    ...createListOffsetsRequest(),
    replicaId: -1,
    isolationLevel,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
  });
  return res.topics[0].partitions[0];
}
