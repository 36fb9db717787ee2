/**
 * SwarmNode's direct dials: the scheduling rules as pure functions (which queued target a node
 * dials next: ring order, fewest failures first; the back-off and per-attempt timeout after
 * failures), the event-loop lag monitor whose reading each dial records (LagMonitor), and the
 * Dialer that runs them: one queue and one worker per node, one attempt at a time, each attempt
 * bounded by its timeout, a stall limit and an ICE limit, every series recorded (DialRecord).
 * docs/NETWORK.md, "Mesh formation", says why each exists.
 *
 * What it is not: libp2p's dialer (the Dialer calls it through DialerInit.dial) or the rule of
 * which side dials (SwarmNode.isDialerFor).
 */
import { DialTimeoutError, DirectDialError, SwarmNodeStateError } from './errors.ts';
import { sleep } from '../util/sleep.ts';

/**
 * One dial series to a target, recorded when it ends. Two durations, reported separately:
 *  - `ms`: from the start of the FIRST attempt of the series to the direct connection being
 *    open (retries and back-off included): the mesh benchmark's "dial time";
 *  - `attemptMs`: from the start of the SUCCESSFUL attempt to the connection being open.
 * `waitMs` is the time the target sat in this node's dial queue before its first attempt
 * (not part of either). `phases` are the libp2p dial progress events of the successful
 * attempt with their time since its start (`webrtc:read-sdp-answer@812`).
 */
export interface DialRecord {
  peerId: string;
  ok: boolean;
  attempts: number;
  ms: number;
  attemptMs?: number;
  /** Wall-clock start of the successful attempt (Date.now()): lines dials of different peers up. */
  startedAt?: number;
  waitMs?: number;
  phases?: string[];
  errors: string[];
}


/** Failed dial rounds to one target, and the earliest time (performance.now()) of the next. */
export interface DialFailure {
  rounds: number;
  notBefore: number;
  /** Start of the first failed attempt of this series (performance.now()). */
  firstAt: number;
  /** Errors of the failed attempts, each with its timeout and the last dial stage reached. */
  errors: string[];
  /** The last attempt hung in ICE (dialIceStallMs): a retry at once is likely to succeed. */
  iceHang?: boolean;
}

/**
 * Which queued target a node dials next (undefined: all are backing off). Targets whose last
 * attempt failed wait until `notBefore`; among the rest, a target whose FIRST attempt just failed
 * goes first (one immediate retry after its back-off: in the 8-peer mesh retries after an ICE
 * hang connected in 0.25-1 s, while waiting a whole turn behind the node's other targets made
 * such a link take 15-100 s); then the fewest failed attempts, then ring order starting just
 * above `self` (string order of peer ids, wrapping around). From its second failure on, a
 * target goes behind the others, so one that never answers costs them at most one retry.
 * (Retrying at once only after ICE hangs, `iceHang`, was tried: in one 8-peer run at load ~14
 * it gave median 3.0 s and 17 of 28 dials over 2 s, against 1.5-1.6 s and 11 of 28 in two runs
 * with the rule above at load 8-13.)
 *
 * Why ring order: with "the smaller id dials", an order shared by every dialer (the largest id
 * first, as before) sends ALL dialers to the same target at once; that target then handles N-1
 * simultaneous WebRTC handshakes on a starved CPU, they time out together, retry together, and
 * a target that keeps failing kept the single dial worker busy forever. In ring order peer r
 * dials r+1, r+2, ... so at any moment each target is dialled by about one peer.
 */
export function nextDialTarget(self: string, queued: readonly string[], failures: ReadonlyMap<string, DialFailure>, now: number): string | undefined {
  let best: string | undefined;
  let bestRounds = Number.POSITIVE_INFINITY;
  for (const id of queued) {
    const f = failures.get(id);
    if (f && f.notBefore > now) continue;
    const rounds = f?.rounds ?? 0;
    const rank = rounds === 1 ? -1 : rounds; // the one immediate retry
    if (rank < bestRounds || (rank === bestRounds && best !== undefined && ringBefore(self, id, best))) {
      best = id;
      bestRounds = rank;
    }
  }
  return best;
}

/** True when `a` comes before `b` walking the ring of peer ids upwards from `self`. */
export function ringBefore(self: string, a: string, b: string): boolean {
  const aAbove = a > self;
  const bAbove = b > self;
  if (aAbove !== bAbove) return aAbove;
  return a < b;
}

/** Back-off before the next attempt to a target whose last `rounds` attempts failed (ms):
 *  base * 2^(rounds-1) with +-25 % jitter (so two dialers that failed together do not retry
 *  together), at most 30 s. */
export function dialBackoff(rounds: number, baseMs: number, rand: () => number = Math.random): number {
  return Math.min(30_000, baseMs * 2 ** Math.max(0, rounds - 1) * (0.75 + 0.5 * rand()));
}

/**
 * How long a node that has just joined should hold its first dials (ms; 0 = dial now): until
 * the members it knows have stopped growing for `settleMs`, at most until `maxMs` after its
 * start. Why: a node dials in ring order among the members it KNOWS. While a swarm forms, the
 * first members to join are the only ones everybody knows, so every newcomer dialled the same
 * one or two of them at once; that target then ran 4-5 WebRTC handshakes together and those
 * dials took 1.6-2.5 s, while dials in the settled mesh took 0.2-0.9 s (8-page mesh,
 * docs/NETWORK.md "Session 7"). Once the relay's roster (every second) has stopped growing, ring
 * order sends about one dialer to each target. A node that joins an existing swarm learns it
 * from its first roster and holds at most `settleMs`; after `maxMs` nothing is held (heals,
 * later joiners).
 */
export function dialHoldMs(now: number, startedAt: number, lastGrowthAt: number, settleMs: number, maxMs: number): number {
  if (now - startedAt >= maxMs) return 0;
  return Math.max(0, Math.min(lastGrowthAt + settleMs, startedAt + maxMs) - now);
}

/** Timeout of the next attempt to a target whose last `rounds` attempts failed (ms): base for
 *  the first attempt, 1.5 * base for every retry. (Session 2 grew it to 4 * base; in session 3's
 *  8-peer runs the failed retries stopped making progress 0.8-4.8 s in, e.g. in ICE, and then
 *  only waited out their 12-18 s, while successful attempts took at most 5.9 s.) */
export function dialAttemptTimeout(rounds: number, baseMs: number): number {
  return rounds > 0 ? 1.5 * baseMs : baseMs;
}

/**
 * Event-loop lag of this runtime: a timer every `periodMs` measures how late it fires. A page
 * whose main thread is starved (other renderers, its own handshakes) fires late; every stage of
 * a WebRTC dial (noise over the circuit, SDP, ICE, DTLS) then waits on that thread too, and an
 * attempt started then is slow or times out. `recentMaxMs` is the largest lateness over the
 * last `windowMs`.
 */
export class LagMonitor {
  private readonly samples: { at: number; lag: number }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private expected = 0;

  constructor(
    readonly periodMs = 200,
    readonly windowMs = 1000,
  ) {}

  start(): void {
    if (this.timer) return;
    const tick = () => {
      const now = performance.now();
      this.samples.push({ at: now, lag: Math.max(0, now - this.expected) });
      while (this.samples.length && this.samples[0]!.at < now - this.windowMs) this.samples.shift();
      this.expected = now + this.periodMs;
      this.timer = setTimeout(tick, this.periodMs);
    };
    this.expected = performance.now() + this.periodMs;
    this.timer = setTimeout(tick, this.periodMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Largest timer lateness over the last windowMs (ms); 0 before the first sample. */
  recentMaxMs(): number {
    let m = 0;
    const since = performance.now() - this.windowMs;
    for (const s of this.samples) if (s.at >= since && s.lag > m) m = s.lag;
    return m;
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** Libp2p dial progress event (only its type is read). */
export interface DialProgress {
  type: string;
}

export interface DialerInit<C> {
  /** This node's peer id (ring order of nextDialTarget). */
  self(): string;
  /** False once the node stopped: the worker ends and queued dials reject. */
  running(): boolean;
  /** One libp2p dial of the target's direct address, honouring `signal` and reporting progress. */
  dial(peerId: string, opts: { signal: AbortSignal; onProgress(ev: DialProgress): void }): Promise<C>;
  /** An open direct connection to `peerId`, if there is one (a dial is then not needed). */
  existing(peerId: string): C | undefined;
  /** Whether a dialled connection is direct (not relayed), and how to name it in an error. */
  isDirect(c: C): boolean;
  describe(c: C): string;
  /** This node's recent event-loop lag (ms), recorded as the first phase of every attempt. */
  lagMs(): number;
  /** How long to hold before starting the next attempt (ms; 0 = go), e.g. dialHoldMs while the
   *  swarm forms. Held time is queue time (DialRecord.waitMs), not dial time. Default: 0. */
  holdMs?(): number;
  /** Where finished dial series are recorded (SwarmNode stats.dials). */
  records: DialRecord[];
  /** Attempts per series, first attempt's timeout, back-off base, stall and ICE limits (NET_DEFAULTS). */
  attempts: number;
  timeoutMs: number;
  retryBaseMs: number;
  stallMs: number;
  iceStallMs: number;
}

/**
 * The dial queue of one node. One dial runs at a time; nextDialTarget picks which queued target
 * goes next (fewest failed rounds first, then ring order from this peer's id), so dialers do not
 * all hit the same target at once and a target that keeps failing cannot starve the others. A
 * target whose round of attempts failed waits dialBackoff() before its next round; after
 * `attempts` rounds its promise rejects (a later dial() starts a new series).
 */
export class Dialer<C> {
  private readonly queue = new Map<string, Deferred<C>>();
  private readonly active = new Set<string>();
  private working = false;
  /** Failed dial rounds per target and when the next round may start (performance.now()). */
  private readonly failures = new Map<string, DialFailure>();
  /** When each target entered the queue (performance.now()), for DialRecord.waitMs. */
  private readonly queuedAt = new Map<string, number>();

  constructor(private readonly init: DialerInit<C>) {}

  /** Queue a dial to `peerId` (or join the one queued); resolves with the direct connection. */
  dial(peerId: string): Promise<C> {
    const inflight = this.queue.get(peerId);
    if (inflight) return inflight.promise;
    const d = deferred<C>();
    d.promise.catch(() => {});
    this.queue.set(peerId, d);
    if (!this.failures.has(peerId)) this.queuedAt.set(peerId, performance.now());
    void this.run();
    return d.promise;
  }

  /** A dial to `peerId` is queued or running. */
  has(peerId: string): boolean {
    return this.queue.has(peerId);
  }

  /** Nothing to do right now: no attempt in flight, no queued target due. */
  idle(): boolean {
    if (this.active.size > 0) return false;
    const now = performance.now();
    for (const id of this.queue.keys()) if ((this.failures.get(id)?.notBefore ?? 0) <= now) return false;
    return true;
  }

  private async run(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.init.running()) {
        const queued = [...this.queue.keys()].filter((id) => !this.active.has(id));
        if (!queued.length) break;
        const hold = this.init.holdMs?.() ?? 0;
        if (hold > 0) {
          await sleep(Math.min(hold, 250));
          continue;
        }
        const now = performance.now();
        const next = nextDialTarget(this.init.self(), queued, this.failures, now);
        if (next === undefined) {
          // Every queued target is backing off: sleep until the first one may go again.
          const wake = Math.min(...queued.map((id) => this.failures.get(id)?.notBefore ?? now));
          await sleep(Math.max(10, wake - now));
          continue;
        }
        this.active.add(next);
        const d = this.queue.get(next)!;
        let settled = true;
        try {
          d.resolve(await this.attempt(next));
        } catch (e) {
          // One attempt per turn: the target goes back into the queue behind the targets with
          // fewer failures, unless it has used up its attempts (a heartbeat re-queues it later).
          const f = this.failures.get(next);
          if (!f) d.reject(e);
          else if (f.rounds >= this.init.attempts) {
            this.init.records.push({ peerId: next, ok: false, attempts: f.rounds, ms: performance.now() - f.firstAt, errors: f.errors });
            f.errors = [];
            this.queuedAt.delete(next);
            d.reject(new DirectDialError(`no direct connection to ${next} after ${f.rounds} attempts: ${(e as Error).message}`));
          } else settled = false;
        } finally {
          this.active.delete(next);
          if (settled) this.queue.delete(next);
        }
      }
    } finally {
      this.working = false;
    }
    if (!this.init.running()) {
      for (const [, d] of this.queue) d.reject(new SwarmNodeStateError('SwarmNode stopped'));
      this.queue.clear();
    }
  }

  /**
   * One WebRTC dial attempt to `peerId`. Its timeout is dialAttemptTimeout() of the target's
   * failed rounds: on a starved machine every stage (circuit, noise over the circuit, SDP, ICE)
   * is slow, and a fixed short timeout only restarts the same work. A failure is recorded in
   * `failures` (rounds, back-off, errors with the last dial stage).
   */
  private async attempt(peerId: string): Promise<C> {
    const existing = this.init.existing(peerId);
    if (existing) {
      this.failures.delete(peerId);
      return existing;
    }
    if (!this.init.running()) throw new SwarmNodeStateError('SwarmNode stopped');
    const ta = performance.now();
    const wallStart = Date.now();
    const prev = this.failures.get(peerId);
    const timeoutMs = dialAttemptTimeout(prev?.rounds ?? 0, this.init.timeoutMs);
    // The last libp2p dial stage reached ('webrtc:read-sdp-answer@812ms', ...): where a failed attempt stopped.
    let stage = 'queued';
    // The first entry: this node's event-loop lag when the attempt started (LagMonitor).
    const phases: string[] = [`lag=${this.init.lagMs().toFixed(0)}ms`];
    // Two limits: the attempt's total timeout, and (optional, stallMs > 0) a stall limit that
    // aborts an attempt whose dial made no progress for that long (hung attempts sit in one
    // stage, e.g. ICE, until the timeout; but on a starved machine slow stages look the same).
    const ac = new AbortController();
    const total = setTimeout(() => ac.abort(new DialTimeoutError(`attempt timed out after ${timeoutMs} ms`)), timeoutMs);
    let stall: ReturnType<typeof setTimeout> | undefined;
    const stallMs = this.init.stallMs;
    const armStall = () => {
      if (stallMs <= 0) return;
      clearTimeout(stall);
      stall = setTimeout(() => ac.abort(new DialTimeoutError(`no dial progress for ${stallMs} ms`)), stallMs);
    };
    armStall();
    // The ICE stage has its own limit (iceStallMs): once candidates flow, a healthy attempt
    // opens within ~0.8 s even on the loaded machine; hung ones sat there until the timeout.
    let ice: ReturnType<typeof setTimeout> | undefined;
    const iceMs = this.init.iceStallMs;
    const onProgress = (ev: DialProgress) => {
      const at = (performance.now() - ta).toFixed(0);
      stage = `${ev.type}@${at}ms`;
      if (phases.length < 40) phases.push(`${ev.type}@${at}`);
      armStall();
      if (iceMs > 0 && (ev.type === 'webrtc:read-ice-candidates' || ev.type === 'webrtc:add-ice-candidate')) {
        clearTimeout(ice);
        ice = setTimeout(() => ac.abort(new DialTimeoutError(`ICE/DTLS not connected ${iceMs} ms after the last candidate`)), iceMs);
      } else if (ev.type === 'webrtc:close-signaling-stream') clearTimeout(ice);
    };
    try {
      const signal = ac.signal;
      // Race a hard timer too: a dial that ignores its abort signal must not block the queue.
      const c = await Promise.race([
        this.init.dial(peerId, { signal, onProgress }),
        sleep(timeoutMs + 1000).then(() => {
          throw new DirectDialError(`dial ignored its ${timeoutMs} ms timeout`);
        }),
      ]);
      if (!this.init.isDirect(c)) throw new DirectDialError(`dial gave a non-direct connection ${this.init.describe(c)}`);
      // ms: from the first attempt of this series (retries and back-off included).
      const now = performance.now();
      const firstAt = prev?.firstAt ?? ta;
      const queuedAt = this.queuedAt.get(peerId);
      this.init.records.push({
        peerId,
        ok: true,
        attempts: (prev?.rounds ?? 0) + 1,
        ms: now - firstAt,
        attemptMs: now - ta,
        startedAt: wallStart,
        ...(queuedAt !== undefined ? { waitMs: Math.max(0, firstAt - queuedAt) } : {}),
        phases,
        errors: prev?.errors ?? [],
      });
      this.failures.delete(peerId);
      this.queuedAt.delete(peerId);
      return c;
    } catch (e) {
      const rounds = (prev?.rounds ?? 0) + 1;
      const why = ac.signal.aborted ? ` [${(ac.signal.reason as Error).message}]` : '';
      const errors = [...(prev?.errors ?? []), `${(e as Error).name}: ${(e as Error).message}${why} (${timeoutMs} ms attempt from ${Math.round(wallStart)}, last stage ${stage})`];
      const iceHang = ac.signal.aborted && (ac.signal.reason as Error).message.startsWith('ICE/DTLS');
      this.failures.set(peerId, { rounds, notBefore: performance.now() + dialBackoff(rounds, this.init.retryBaseMs), firstAt: prev?.firstAt ?? ta, errors, iceHang });
      throw e;
    } finally {
      clearTimeout(total);
      clearTimeout(stall);
      clearTimeout(ice);
    }
  }
}
