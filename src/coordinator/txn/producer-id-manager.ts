// Hands out producer ids from blocks reserved in the metadata store, so a restart or another agent
// never reuses an id and InitProducerId costs a store round trip only once per block.
import type { ProducerIdStore } from '../../metadata/types.js';

export const DEFAULT_PRODUCER_ID_BLOCK_SIZE = 1000;

export class ProducerIdManager {
  private next = 0n;
  private end = 0n;
  private refill: Promise<void> | null = null;

  constructor(
    private readonly store: ProducerIdStore,
    private readonly blockSize = DEFAULT_PRODUCER_ID_BLOCK_SIZE,
  ) {}

  async generateProducerId(): Promise<bigint> {
    while (this.next >= this.end) {
      // One refill at a time; concurrent callers wait for it and then take from the new block.
      this.refill ??= this.store.allocateProducerIds(this.blockSize).then(
        (first) => {
          this.next = first;
          this.end = first + BigInt(this.blockSize);
          this.refill = null;
        },
        (err) => {
          this.refill = null;
          throw err;
        },
      );
      await this.refill;
    }
    return this.next++;
  }
}
