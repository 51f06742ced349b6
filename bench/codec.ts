// Codec throughput: encode and decode of Produce requests and Fetch responses carrying realistic
// record batches (16 partitions x 64 records of 1 KiB, built by our batch builder).
import { Reader, Writer } from '../src/protocol/primitives.js';
import {
  ProduceRequestMessage,
  FetchResponseMessage,
  createProduceRequest,
  createFetchResponse,
  type ProduceRequest,
  type FetchResponse,
} from '../src/protocol/generated/index.js';
import { createPartitionData, createFetchableTopicResponse } from '../src/protocol/generated/FetchResponse.js';
import { createTopicProduceData, createPartitionProduceData } from '../src/protocol/generated/ProduceRequest.js';
import { buildBatchSync } from '../src/protocol/records/index.js';

export interface CodecResult {
  name: string;
  version: number;
  messageBytes: number;
  encodeMBps: number;
  decodeMBps: number;
}

function batch(records: number, size: number): Buffer {
  const value = Buffer.alloc(size, 0x61);
  return buildBatchSync({
    records: Array.from({ length: records }, (_, i) => ({ key: Buffer.from(`key-${i}`), value, headers: [] })),
  });
}

function measure<T>(name: string, codec: { encode(w: Writer, v: T, ver: number): void; decode(r: Reader, ver: number): T }, value: T, version: number, seconds = 1.5): CodecResult {
  const w0 = new Writer(1 << 20);
  codec.encode(w0, value, version);
  const bytes = Buffer.from(w0.finish());
  const time = (fn: () => void) => {
    for (let i = 0; i < 50; i++) fn();
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < seconds) {
      for (let i = 0; i < 20; i++) fn();
      n += 20;
      elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    }
    return (n * bytes.length) / elapsed / 1e6;
  };
  const encodeMBps = time(() => {
    const w = new Writer(bytes.length + 64);
    codec.encode(w, value, version);
  });
  const decodeMBps = time(() => {
    const r = new Reader(bytes);
    codec.decode(r, version);
  });
  return { name, version, messageBytes: bytes.length, encodeMBps, decodeMBps };
}

export function runCodecBench(): CodecResult[] {
  const b = batch(64, 1024);
  const produce: ProduceRequest = {
    ...createProduceRequest(),
    acks: -1,
    timeoutMs: 30000,
    topicData: [
      {
        ...createTopicProduceData(),
        name: 'bench',
        partitionData: Array.from({ length: 16 }, (_, i) => ({ ...createPartitionProduceData(), index: i, records: b })),
      },
    ],
  };
  const fetch: FetchResponse = {
    ...createFetchResponse(),
    responses: [
      {
        ...createFetchableTopicResponse(),
        topic: 'bench',
        partitions: Array.from({ length: 16 }, (_, i) => ({
          ...createPartitionData(),
          partitionIndex: i,
          errorCode: 0,
          highWatermark: 1000n,
          lastStableOffset: 1000n,
          logStartOffset: 0n,
          abortedTransactions: [],
          preferredReadReplica: -1,
          records: b,
        })),
      },
    ],
  };
  return [
    measure('ProduceRequest', ProduceRequestMessage, produce, 9),
    measure('ProduceRequest', ProduceRequestMessage, produce, 3),
    measure('FetchResponse', FetchResponseMessage, fetch, 12),
    measure('FetchResponse', FetchResponseMessage, fetch, 4),
  ];
}
