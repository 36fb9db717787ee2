/**
 * Clocks for the gossip layer. `RealClock` for the real swarm; `SimClock` is a discrete-event
 * virtual clock for in-process simulation: `sleep` registers a timer, and `run(done)` repeatedly
 * lets every pending microtask settle, then fires the earliest timer, so N peers in one process
 * see consistent virtual time (compute delays, network latency, timeouts) with no real waiting.
 * If nothing can progress (no timers, `done` unsettled) it throws SimDeadlockError: hangs are
 * reported, not waited on.
 */
import { SimDeadlockError } from './errors.ts';

export interface Clock {
  /** Milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** A cancellable sleep (cancelled timers never fire and do not keep a simulation alive). */
  timer(ms: number): { promise: Promise<void>; cancel(): void };
}

export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }
  sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, Math.max(0, ms)));
  }
  timer(ms: number): { promise: Promise<void>; cancel(): void } {
    let id: ReturnType<typeof setTimeout> | undefined;
    const promise = new Promise<void>((r) => {
      id = setTimeout(r, Math.max(0, ms));
    });
    return { promise, cancel: () => clearTimeout(id) };
  }
}

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
  cancelled?: boolean;
}

const yieldMacrotask: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((r) => setImmediate(r))
    : () =>
        new Promise((r) => {
          const ch = new MessageChannel();
          ch.port1.onmessage = () => r();
          ch.port2.postMessage(0);
        });

export class SimClock implements Clock {
  private t = 0;
  private seq = 0;
  private heap: Timer[] = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve }));
  }

  timer(ms: number): { promise: Promise<void>; cancel(): void } {
    let t: Timer | undefined;
    const promise = new Promise<void>((resolve) => {
      t = { at: this.t + Math.max(0, ms), seq: this.seq++, resolve };
      this.push(t);
    });
    return {
      promise,
      cancel: () => {
        if (t) t.cancelled = true;
      },
    };
  }

  get pendingTimers(): number {
    return this.heap.length;
  }

  /** Advance virtual time until `done` settles (or `maxTimeMs` passes: then it rejects). */
  async run<T>(done: Promise<T>, maxTimeMs = Number.POSITIVE_INFINITY): Promise<T> {
    let settled = false;
    const watched = done.finally(() => {
      settled = true;
    });
    watched.catch(() => {});
    while (!settled) {
      await yieldMacrotask();
      if (settled) break;
      const next = this.pop();
      if (!next) throw new SimDeadlockError(`simulation stalled at t=${this.t.toFixed(1)} ms: nothing is scheduled and the run has not finished`);
      if (next.at > maxTimeMs) throw new SimDeadlockError(`simulation passed its time limit of ${maxTimeMs} ms`);
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
    return watched;
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    let top = this.popAny();
    while (top?.cancelled) top = this.popAny();
    return top;
  }

  private popAny(): Timer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
