/**
 * Discrete-event simulator of one training iteration of a plan, over the same peer and link
 * model as the cost model but event by event:
 *  - every peer computes one task at a time, in its schedule's order (GPipe: all forwards then
 *    all backwards; 1F1B: P-1-s warm-up forwards, then one forward / one backward, then the
 *    remaining backwards), starting a task only when its input has arrived; each replica runs
 *    its own number of microbatches (Layout.micro) when the plan splits the batch unevenly;
 *  - every peer sends one message at a time (FIFO uplink); a message of B bytes from i to j
 *    occupies i's uplink for B / bandwidth[i][j] and arrives latency[i][j] later;
 *  - a stage's gradient all-reduce starts when all its replicas have finished their last
 *    backward: reduce-scatter (each peer sends shard k to its owner k, in ring order), then
 *    each owner sends its reduced shard to everyone (all-gather).
 * Optional seeded jitter perturbs every compute task and transfer.
 * It validates costmodel.ts (predicted vs simulated) and runs studies with 1000+ peers.
 * Not a network emulator: no congestion between different senders, no packet loss.
 */
import { mulberry32 } from '../util/random.ts';
import type { Layout } from './costmodel.ts';
import type { Instance } from './problem.ts';
import type { SimulateOptions, SimulationResult } from './types.ts';

/** Binary min-heap of events keyed by (time, sequence number). */
class EventQueue<T> {
  private times: number[] = [];
  private seqs: number[] = [];
  private items: T[] = [];
  private seq = 0;
  get size(): number {
    return this.items.length;
  }
  private less(a: number, b: number): boolean {
    return this.times[a]! < this.times[b]! || (this.times[a] === this.times[b] && this.seqs[a]! < this.seqs[b]!);
  }
  private swap(a: number, b: number): void {
    [this.times[a], this.times[b]] = [this.times[b]!, this.times[a]!];
    [this.seqs[a], this.seqs[b]] = [this.seqs[b]!, this.seqs[a]!];
    [this.items[a], this.items[b]] = [this.items[b]!, this.items[a]!];
  }
  push(time: number, item: T): void {
    this.times.push(time);
    this.seqs.push(this.seq++);
    this.items.push(item);
    let i = this.items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { time: number; item: T } {
    const time = this.times[0]!;
    const item = this.items[0]!;
    const last = this.items.length - 1;
    this.swap(0, last);
    this.times.pop();
    this.seqs.pop();
    this.items.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return { time, item };
  }
}

type Ev =
  | { k: 'done'; r: number; s: number }
  | { k: 'fwd'; r: number; s: number; mb: number }
  | { k: 'bwd'; r: number; s: number; mb: number }
  | { k: 'rs'; s: number; owner: number }
  | { k: 'ag'; s: number; to: number };

/** Task order of stage s: entries ≥ 0 are forwards of microbatch x, entries < 0 are backwards of microbatch -x-1. */
export function taskOrder(schedule: 'gpipe' | '1f1b', P: number, m: number, s: number): number[] {
  const out: number[] = [];
  if (schedule === 'gpipe') {
    for (let i = 0; i < m; i++) out.push(i);
    for (let i = m - 1; i >= 0; i--) out.push(-i - 1);
    return out;
  }
  const warm = Math.min(P - 1 - s, m);
  for (let i = 0; i < warm; i++) out.push(i);
  for (let i = 0; i < m - warm; i++) {
    out.push(warm + i);
    out.push(-i - 1);
  }
  for (let i = m - warm; i < m; i++) out.push(-i - 1);
  return out;
}

/** Simulate one iteration of `layout` on `inst`. */
export function simulateLayout(inst: Instance, layout: Layout, opts: SimulateOptions = {}): SimulationResult {
  const { P, n, lat, secPerByte, speed, microbatchSize: mb, backwardFactor: beta } = inst;
  const D = layout.assignment[0]!.length;
  // Microbatches of each replica (uneven when the plan splits the batch by replica speed).
  const micro = Array.from({ length: D }, (_, r) => layout.micro?.[r] ?? inst.m);
  const m = Math.max(...micro);
  const jitter = opts.jitter ?? 0;
  const rand = mulberry32(opts.seed ?? 1);
  const jit = (x: number) => (jitter > 0 ? x * (1 + jitter * (2 * rand() - 1)) : x);
  const q = new EventQueue<Ev>();
  const uplinkFree = new Float64Array(n);
  let events = 0;

  const send = (now: number, from: number, to: number, bytes: number, ev: Ev) => {
    const start = Math.max(now, uplinkFree[from]!);
    const dur = jit(bytes * secPerByte[from * n + to]!);
    uplinkFree[from] = start + dur;
    q.push(start + dur + lat[from * n + to]!, ev);
  };

  // Pipeline state, index [r*P+s].
  const orderCache = new Map<number, number[][]>();
  const orders = micro.map((mr) => {
    let o = orderCache.get(mr);
    if (!o) {
      o = Array.from({ length: P }, (_, s) => taskOrder(inst.schedule, P, mr, s));
      orderCache.set(mr, o);
    }
    return o;
  });
  const next = new Int32Array(D * P);
  const busy = new Uint8Array(D * P);
  const fwdIn = new Uint8Array(D * P * m); // input activation present
  const bwdIn = new Uint8Array(D * P * m); // output gradient present
  const fwdFlops = layout.ranges.map(([a, b]) => mb * (inst.cumFlops[b]! - inst.cumFlops[a]!));
  const actBytes = layout.ranges.map(([, b]) => inst.actOut[b - 1]! * mb * inst.activationRatio);
  const pipelineSeconds = new Array<number>(D).fill(0);
  const stageDoneCount = new Int32Array(P);
  const allreduceEnd = new Array<number>(P).fill(0);
  const current = new Int32Array(D * P);
  for (let r = 0; r < D; r++) for (let i = 0; i < micro[r]!; i++) fwdIn[(r * P + 0) * m + i] = 1;

  const tryStart = (now: number, r: number, s: number) => {
    const k = r * P + s;
    const order = orders[r]![s]!;
    if (busy[k] || next[k]! >= order.length) return;
    const task = order[next[k]!]!;
    const ready = task >= 0 ? fwdIn[k * m + task] : bwdIn[k * m + (-task - 1)];
    if (!ready) return;
    busy[k] = 1;
    current[k] = task;
    next[k]!++;
    const p = layout.assignment[s]![r]!;
    const dur = jit(((task >= 0 ? 1 : beta) * fwdFlops[s]!) / speed[p]!);
    q.push(now + dur, { k: 'done', r, s });
  };

  // Gradient all-reduce state per stage.
  const shardBytes = layout.ranges.map(([a, b]) => ((inst.cumParams[b]! - inst.cumParams[a]!) * inst.gradientRatio) / D);
  const rsCount = new Int32Array(P * D);
  const agCount = new Int32Array(P * D);
  const agDone = new Int32Array(P);
  const startAllreduce = (now: number, s: number) => {
    const group = layout.assignment[s]!;
    if (D === 1) {
      allreduceEnd[s] = now;
      return;
    }
    for (let i = 0; i < D; i++)
      for (let d = 1; d < D; d++) {
        const j = (i + d) % D;
        send(now, group[i]!, group[j]!, shardBytes[s]!, { k: 'rs', s, owner: j });
      }
  };

  for (let r = 0; r < D; r++) for (let s = 0; s < P; s++) tryStart(0, r, s);
  while (q.size > 0) {
    const { time: now, item: ev } = q.pop();
    events++;
    switch (ev.k) {
      case 'done': {
        const { r, s } = ev;
        const k = r * P + s;
        busy[k] = 0;
        const task = current[k]!;
        const p = layout.assignment[s]![r]!;
        if (task >= 0) {
          if (s < P - 1) send(now, p, layout.assignment[s + 1]![r]!, actBytes[s]!, { k: 'fwd', r, s: s + 1, mb: task });
          else bwdIn[k * m + task] = 1;
        } else {
          const i = -task - 1;
          if (s > 0) send(now, p, layout.assignment[s - 1]![r]!, actBytes[s - 1]!, { k: 'bwd', r, s: s - 1, mb: i });
          if (next[k] === orders[r]![s]!.length) {
            if (s === 0) pipelineSeconds[r] = now;
            if (++stageDoneCount[s] === D) startAllreduce(now, s);
          }
        }
        tryStart(now, r, s);
        break;
      }
      case 'fwd':
        fwdIn[(ev.r * P + ev.s) * m + ev.mb] = 1;
        tryStart(now, ev.r, ev.s);
        break;
      case 'bwd':
        bwdIn[(ev.r * P + ev.s) * m + ev.mb] = 1;
        tryStart(now, ev.r, ev.s);
        break;
      case 'rs': {
        if (++rsCount[ev.s * D + ev.owner] === D - 1) {
          const group = layout.assignment[ev.s]!;
          for (let d = 1; d < D; d++) {
            const j = (ev.owner + d) % D;
            send(now, group[ev.owner]!, group[j]!, shardBytes[ev.s]!, { k: 'ag', s: ev.s, to: j });
          }
        }
        break;
      }
      case 'ag': {
        if (++agCount[ev.s * D + ev.to] === D - 1 && ++agDone[ev.s] === D) allreduceEnd[ev.s] = now;
        break;
      }
    }
  }
  const iterationSeconds = Math.max(...allreduceEnd, ...pipelineSeconds);
  return { iterationSeconds, pipelineSeconds, allreduceEndSeconds: allreduceEnd, events };
}
