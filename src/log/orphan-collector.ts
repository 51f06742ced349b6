// Garbage collection of segment objects: an upload whose commit never happened (crash, fencing,
// metadata outage), a delete that failed after its rows were removed, a deleted topic. Such an
// object has no segment row; it is deleted once older than a grace period, so an upload that is
// about to commit is never touched.
import type { Logger } from '../observability/logger.js';
import type { MetadataStore } from '../metadata/types.js';
import type { ObjectStore } from '../s3/index.js';
import { parseSegmentKey } from './segment-format.js';

export interface OrphanReport {
  scanned: number;
  deleted: string[];
}

export async function collectOrphans(store: MetadataStore, objects: ObjectStore, graceMs: number, log: Logger, now = Date.now()): Promise<OrphanReport> {
  const known = new Map<string, Set<string> | null>();
  const rowsOf = async (topicId: string, partition: number): Promise<Set<string> | null> => {
    const k = `${topicId}:${partition}`;
    if (!known.has(k)) {
      const topic = await store.topics.getTopicById(topicId);
      known.set(k, topic && partition < topic.partitions ? new Set((await store.segments.listSegments(topicId, partition)).map((s) => s.objectKey)) : null);
    }
    return known.get(k)!;
  };
  const report: OrphanReport = { scanned: 0, deleted: [] };
  const candidates: string[] = [];
  for await (const o of objects.list('topics/')) {
    report.scanned++;
    if (now - o.lastModified.getTime() < graceMs) continue;
    const parsed = parseSegmentKey(o.key);
    if (!parsed) continue; // not ours to judge
    candidates.push(o.key);
  }
  for (const key of candidates) {
    const parsed = parseSegmentKey(key)!;
    const rows = await rowsOf(parsed.topicId, parsed.partition);
    if (rows?.has(key)) continue;
    // Re-check this one partition: a commit may have landed since the listing.
    if (rows && (await store.segments.listSegments(parsed.topicId, parsed.partition)).some((s) => s.objectKey === key)) continue;
    try {
      await objects.delete(key);
      report.deleted.push(key);
    } catch (err) {
      log.warn({ err, key }, 'deleting an orphaned segment object failed');
    }
  }
  if (report.deleted.length > 0) log.info({ deleted: report.deleted.length, scanned: report.scanned }, 'orphaned segment objects deleted');
  return report;
}
