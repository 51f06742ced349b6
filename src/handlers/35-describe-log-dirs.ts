// DescribeLogDirs (key 35), versions 0-4.
// One log dir: the broker's data directory (WAL, embedded metadata, local objects). Every
// partition of the asked topics is listed there (topics null = all): partition data lives in the
// shared object store, not on a chosen broker, so there is no placement to filter by. The size is
// the open partition log's committed segments plus tail (0 for a partition not opened since
// start-up, or while the log layer is not wired in). offsetLag is 0 and isFutureKey false: there are no follower or future
// replicas. totalBytes/usableBytes (v4) are the data directory's file system, -1 when it cannot
// be read. Unknown topics and partitions are left out, as Kafka does.
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  DescribeLogDirsRequestMessage,
  DescribeLogDirsResponseMessage,
  createDescribeLogDirsResponse,
  type DescribeLogDirsRequest,
  type DescribeLogDirsResponse,
} from '../protocol/generated/index.js';
import type { DescribeLogDirsTopic } from '../protocol/generated/DescribeLogDirsResponse.js';
import { ErrorCode } from '../protocol/errors.js';
import type { TopicRecord } from '../metadata/types.js';
import type { BrokerContext } from './context.js';
import { defineHandler } from './types.js';

export function describeLogDirsHandler(b: BrokerContext) {
  return defineHandler<DescribeLogDirsRequest, DescribeLogDirsResponse>({
    request: DescribeLogDirsRequestMessage,
    response: DescribeLogDirsResponseMessage,
    minVersion: 0,
    maxVersion: 4,
    async handle(req) {
      const logDir = resolve(b.config.dataDir);
      const sizes = partitionSizes(b);
      const topics: DescribeLogDirsTopic[] = [];
      for (const { topic, partitions } of await wanted(b, req)) {
        topics.push({
          name: topic.name,
          partitions: partitions.map((p) => ({
            partitionIndex: p,
            partitionSize: BigInt(sizes.get(`${topic.id}:${p}`) ?? 0),
            offsetLag: 0n,
            isFutureKey: false,
          })),
        });
      }
      const { totalBytes, usableBytes } = await diskSpace(logDir);
      return {
        ...createDescribeLogDirsResponse(),
        errorCode: ErrorCode.NONE,
        results: [{ errorCode: ErrorCode.NONE, logDir, topics, totalBytes, usableBytes }],
      };
    },
    // v0-2 have no top-level error code, so the failure goes on the one log dir.
    errorResponse(_req, errorCode) {
      return {
        ...createDescribeLogDirsResponse(),
        errorCode,
        results: [{ errorCode, logDir: resolve(b.config.dataDir), topics: [], totalBytes: -1n, usableBytes: -1n }],
      };
    },
  });
}

async function wanted(b: BrokerContext, req: DescribeLogDirsRequest): Promise<{ topic: TopicRecord; partitions: number[] }[]> {
  const all = (t: TopicRecord) => Array.from({ length: t.partitions }, (_, i) => i);
  if (req.topics === null) return (await b.topics.list()).map((topic) => ({ topic, partitions: all(topic) }));
  const byName = new Map<string, Set<number>>();
  for (const t of req.topics) {
    const set = byName.get(t.topic) ?? new Set<number>();
    t.partitions.forEach((p) => set.add(p));
    byName.set(t.topic, set);
  }
  const out: { topic: TopicRecord; partitions: number[] }[] = [];
  for (const [name, asked] of byName) {
    const topic = await b.topics.get(name);
    if (!topic) continue;
    const partitions = [...asked].filter((p) => p >= 0 && p < topic.partitions).sort((x, y) => x - y);
    if (partitions.length) out.push({ topic, partitions });
  }
  return out;
}

function partitionSizes(b: BrokerContext): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const p of b.logs?.openPartitions() ?? []) sizes.set(`${p.topicId}:${p.partition}`, p.sizeBytes());
  return sizes;
}

async function diskSpace(dir: string): Promise<{ totalBytes: bigint; usableBytes: bigint }> {
  try {
    const s = await statfs(dir, { bigint: true });
    return { totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize };
  } catch {
    return { totalBytes: -1n, usableBytes: -1n };
  }
}
