/**
 * SwarmNode's dial scheduling, as pure functions plus one small monitor: which queued target a
 * node dials next (ring order, fewest failures first), the back-off and per-attempt timeout
 * after failures, and the event-loop lag monitor whose reading each dial records (LagMonitor).
 * docs/NETWORK.md, "Mesh formation", says why each exists.
 *
 * What it is not: the dial worker itself (SwarmNode.runDials, dialAttempt) or libp2p's dialer.
 */

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
