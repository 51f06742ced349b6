// Keyed timers for the group coordinator (session expiry, delayed joins, sync deadlines).
// Scheduling a key again replaces the earlier timer, which is how a heartbeat pushes a member's
// expiry forward. Tests use ManualTimer to move time explicitly instead of sleeping.

export interface CoordinatorTimer {
  /** Wall-clock milliseconds. */
  now(): number;
  schedule(key: string, delayMs: number, fn: () => void): void;
  cancel(key: string): void;
  isScheduled(key: string): boolean;
  cancelAll(): void;
}

/** Real timers; unref'd so a pending session timeout never keeps the process alive. */
export class SystemTimer implements CoordinatorTimer {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  schedule(key: string, delayMs: number, fn: () => void): void {
    this.cancel(key);
    const t = setTimeout(() => {
      if (this.timers.get(key) === t) this.timers.delete(key);
      fn();
    }, Math.max(0, delayMs));
    t.unref();
    this.timers.set(key, t);
  }

  cancel(key: string): void {
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
  }

  isScheduled(key: string): boolean {
    return this.timers.has(key);
  }

  cancelAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/** Time moves only when advance() is called; due timers fire in deadline order. */
export class ManualTimer implements CoordinatorTimer {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<string, { at: number; seq: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(key: string, delayMs: number, fn: () => void): void {
    this.timers.set(key, { at: this.time + Math.max(0, delayMs), seq: this.seq++, fn });
  }

  cancel(key: string): void {
    this.timers.delete(key);
  }

  isScheduled(key: string): boolean {
    return this.timers.has(key);
  }

  cancelAll(): void {
    this.timers.clear();
  }

  /** Moves time forward by ms, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let nextKey: string | undefined;
      let next: { at: number; seq: number; fn: () => void } | undefined;
      for (const [k, t] of this.timers) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) {
          next = t;
          nextKey = k;
        }
      }
      if (!next) break;
      this.timers.delete(nextKey!);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = end;
  }
}
