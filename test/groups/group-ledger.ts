// The delivery invariants every group test checks, whatever the client: a record whose offset a
// member committed is never delivered again (to anyone, in any later generation), and every
// produced record is delivered at least once (none skipped). Clients report what they read as
// offset ranges per partition and what they committed as "next offset to read" per partition.

export interface LedgerViolation {
  partition: string;
  offset: number;
  committedBefore: number;
  reader: string;
}

export class GroupLedger {
  /** partition key ("topic:partition") -> highest committed offset (the next offset to read). */
  private readonly committed = new Map<string, number>();
  /** partition key -> offsets delivered at least once. */
  private readonly delivered = new Map<string, Set<number>>();
  readonly violations: LedgerViolation[] = [];
  deliveries = 0;

  consumed(reader: string, topic: string, partition: number, minOffset: number, maxOffset: number): void {
    const key = `${topic}:${partition}`;
    const floor = this.committed.get(key) ?? 0;
    const seen = this.delivered.get(key) ?? new Set<number>();
    this.delivered.set(key, seen);
    for (let o = minOffset; o <= maxOffset; o++) {
      if (o < floor) this.violations.push({ partition: key, offset: o, committedBefore: floor, reader });
      seen.add(o);
      this.deliveries++;
    }
  }

  commit(topic: string, partition: number, nextOffset: number): void {
    const key = `${topic}:${partition}`;
    this.committed.set(key, Math.max(this.committed.get(key) ?? 0, nextOffset));
  }

  committedOffset(topic: string, partition: number): number {
    return this.committed.get(`${topic}:${partition}`) ?? 0;
  }

  /** Distinct records delivered. */
  distinct(): number {
    let n = 0;
    for (const s of this.delivered.values()) n += s.size;
    return n;
  }

  /** Offsets below each partition's end that nobody read: skipped records. */
  missing(topic: string, endOffsets: readonly number[]): string[] {
    const out: string[] = [];
    endOffsets.forEach((end, p) => {
      const seen = this.delivered.get(`${topic}:${p}`);
      for (let o = 0; o < end; o++) if (!seen?.has(o)) out.push(`${topic}:${p}@${o}`);
    });
    return out;
  }
}

/** Polls until cond() holds, failing with `what` after timeoutMs. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
