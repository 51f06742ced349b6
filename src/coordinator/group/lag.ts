// Consumer group lag for the metrics endpoint (streamhouse_consumer_group_lag): high watermark
// minus committed offset, per group and partition, computed when /metrics is scraped. Only
// partitions whose log is open here are reported: opening a log to answer a scrape would load
// segments for partitions nobody reads, and an open log is where a consumer is actually behind.
import type { GroupOffsetStore } from '../../metadata/types.js';

export interface GroupLagEntry {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

/** The high watermark of an open partition log, or undefined when the log is not open. */
export type HighWatermarkLookup = (topic: string, partition: number) => Promise<bigint | undefined> | bigint | undefined;

export async function consumerGroupLag(offsets: GroupOffsetStore, highWatermark: HighWatermarkLookup): Promise<GroupLagEntry[]> {
  const out: GroupLagEntry[] = [];
  for (const group of await offsets.listGroupsWithOffsets()) {
    for (const o of await offsets.fetchOffsets(group)) {
      const hw = await highWatermark(o.topic, o.partition);
      if (hw === undefined || o.offset < 0n) continue;
      // A committed offset past the HW (records not yet durable were read) is no lag, not negative lag.
      const lag = hw > o.offset ? Number(hw - o.offset) : 0;
      out.push({ group, topic: o.topic, partition: o.partition, lag });
    }
  }
  return out;
}
