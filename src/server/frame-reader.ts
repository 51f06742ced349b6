// Splits a TCP byte stream into Kafka frames: a 4-byte big-endian size, then that many bytes.
// Buffers only what has actually arrived, so a peer that announces a large frame and sends
// nothing costs nothing; a negative or oversized size is rejected before any allocation.

export class FrameTooLargeError extends Error {}

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private nextSize = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received but not yet returned as a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /** Feeds a chunk; returns the complete frames it finishes (without their size prefix). */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.nextSize < 0) {
        if (this.buffered < 4) break;
        const size = this.peekInt32();
        if (size < 0 || size > this.maxFrameBytes) {
          throw new FrameTooLargeError(
            size < 0
              ? `negative frame size ${size}`
              : `frame size ${size} exceeds socket.request.max.bytes (${this.maxFrameBytes})`,
          );
        }
        this.consume(4);
        this.nextSize = size;
      }
      if (this.buffered < this.nextSize) break;
      frames.push(this.consume(this.nextSize));
      this.nextSize = -1;
    }
    return frames;
  }

  private peekInt32(): number {
    const first = this.chunks[0];
    if (first.length >= 4) return first.readInt32BE(0);
    return Buffer.concat(this.chunks, 4).readInt32BE(0);
  }

  /** Removes and returns the next n bytes, copying only when they span chunks. */
  private consume(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0];
        const take = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, take);
        filled += take;
        if (take === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(take);
      }
    }
    this.buffered -= n;
    return out;
  }
}
