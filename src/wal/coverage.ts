// Which WAL files are still needed. Each file keeps, per partition, the end offset (last offset + 1)
// of the newest batch it holds; the partition logs report how far their committed segments reach.
// A file is no longer needed once every partition in it is committed up to that end.

export function partitionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

/** Per file: partition key -> exclusive end offset of its newest batch in that file. */
export class FileCoverage {
  readonly ends = new Map<string, bigint>();

  add(key: string, lastOffset: bigint): void {
    const end = lastOffset + 1n;
    const seen = this.ends.get(key);
    if (seen === undefined || end > seen) this.ends.set(key, end);
  }
}

/** Committed end offsets reported by the partition logs. */
export class CommittedOffsets {
  private readonly committed = new Map<string, bigint>();

  /** Offsets below `endOffset` are in committed segments; never moves backwards. */
  release(key: string, endOffset: bigint): void {
    const seen = this.committed.get(key);
    if (seen === undefined || endOffset > seen) this.committed.set(key, endOffset);
  }

  covers(file: FileCoverage): boolean {
    for (const [key, end] of file.ends) {
      const committed = this.committed.get(key);
      if (committed === undefined || committed < end) return false;
    }
    return true;
  }
}
