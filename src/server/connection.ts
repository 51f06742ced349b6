// One client connection: frames in, responses out in request order.
// Requests of one connection run concurrently (a slow fetch long-poll does not hold up a
// metadata request's processing), but responses leave strictly in the order the requests
// arrived, as the protocol requires. A bound on queued requests pauses reading from the
// socket, and so does a full socket write buffer: backpressure reaches the client through TCP.
import type { Socket } from 'node:net';
import { FrameReader, FrameTooLargeError } from './frame-reader.js';
import { CloseConnection, type Dispatcher, type ResponseFrame } from './dispatcher.js';
import type { Logger } from '../observability/logger.js';

export interface ConnectionLimits {
  maxFrameBytes: number;
  maxQueuedRequests: number;
  idleTimeoutMs: number;
}

/** Byte counts for metrics: called with the size of every chunk read and every response written. */
export interface TrafficHook {
  received(bytes: number): void;
  sent(bytes: number): void;
}

interface Slot {
  done: boolean;
  /** One buffer, or buffers to write in order (record batches are not copied into the frame). */
  response: ResponseFrame | null;
}

export class Connection {
  private readonly frames: FrameReader;
  private readonly queue: Slot[] = [];
  /** Frames read while the queue was full; started as answers leave. */
  private readonly waiting: Buffer[] = [];
  private readonly abort = new AbortController();
  private pausedForQueue = false;
  private pausedForWrite = false;
  private closed = false;
  private reading = true;
  readonly remote: string;

  constructor(
    private readonly socket: Socket,
    private readonly dispatcher: Dispatcher,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
    private readonly onClose: (c: Connection) => void,
    private readonly traffic?: TrafficHook,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.frames = new FrameReader(limits.maxFrameBytes);
    socket.setNoDelay(true);
    if (limits.idleTimeoutMs > 0) {
      socket.setTimeout(limits.idleTimeoutMs, () => this.close('idle longer than connections.max.idle.ms'));
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.pausedForWrite = false;
      this.updateFlow();
    });
    socket.on('error', (err) => this.log.debug({ err: err.message, remote: this.remote }, 'socket error'));
    socket.on('close', () => this.teardown());
  }

  /** Requests received but not yet answered. */
  get inFlight(): number {
    return this.queue.length;
  }

  private onData(chunk: Buffer): void {
    this.traffic?.received(chunk.length);
    let frames: Buffer[];
    try {
      frames = this.frames.push(chunk);
    } catch (err) {
      if (err instanceof FrameTooLargeError) return this.close(err.message);
      throw err;
    }
    for (const frame of frames) {
      if (this.closed || !this.reading) return;
      if (this.queue.length >= this.limits.maxQueuedRequests) this.waiting.push(frame);
      else this.start(frame);
    }
  }

  private start(frame: Buffer): void {
    const slot: Slot = { done: false, response: null };
    this.queue.push(slot);
    this.updateFlow();
    this.dispatcher
      .dispatch(frame, { clientHost: this.socket.remoteAddress ?? '', signal: this.abort.signal })
      .then(
        (response) => {
          slot.response = response;
          slot.done = true;
          this.flush();
        },
        (err) => {
          if (err instanceof CloseConnection) this.close(err.message);
          else {
            this.log.error({ err, remote: this.remote }, 'request dispatch failed');
            this.close('internal error');
          }
        },
      );
  }

  private flush(): void {
    // Corked, a response's chunks (and several ready responses) leave in one writev.
    const corked = !this.closed && this.queue.length > 0 && this.queue[0].done;
    if (corked) this.socket.cork();
    while (!this.closed && this.queue.length > 0 && this.queue[0].done) {
      const slot = this.queue.shift()!;
      if (slot.response !== null) {
        const chunks = Array.isArray(slot.response) ? slot.response : [slot.response];
        let bytes = 0;
        for (const chunk of chunks) {
          bytes += chunk.length;
          if (!this.socket.write(chunk)) this.pausedForWrite = true;
        }
        this.traffic?.sent(bytes);
      }
      while (this.waiting.length > 0 && this.queue.length < this.limits.maxQueuedRequests) {
        this.start(this.waiting.shift()!);
      }
    }
    if (corked) this.socket.uncork();
    this.updateFlow();
  }

  private updateFlow(): void {
    if (this.closed) return;
    this.pausedForQueue = this.queue.length + this.waiting.length >= this.limits.maxQueuedRequests;
    if (!this.reading || this.pausedForQueue || this.pausedForWrite) this.socket.pause();
    else this.socket.resume();
  }

  /** Closes the connection, dropping unanswered requests. */
  close(reason: string): void {
    if (this.closed) return;
    this.log.info({ remote: this.remote, reason }, 'closing connection');
    this.teardown();
    this.socket.destroy();
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.waiting.length = 0;
    this.abort.abort();
    this.onClose(this);
  }

  /** Resolves once every request received so far has been answered (or the socket closed). */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && this.queue.length + this.waiting.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  destroy(): void {
    this.teardown();
    this.socket.destroy();
  }

  /** Stops reading new requests (graceful shutdown); answers still go out. */
  stopReading(): void {
    this.reading = false;
    this.socket.pause();
  }
}
