/**
 * adpsgd: AD-PSGD, Lian, Zhang, Zhang & Liu 2018, "Asynchronous Decentralized Parallel
 * Stochastic Gradient Descent" (ICML). No rounds: after each local step a peer averages with ONE
 * neighbour, chosen at random among those that answered recently, and does not wait for anyone
 * else:
 *   active i:  send a small request to j, then x_i;  on j's reply x_j:  x_i <- (x_i + x_j) / 2
 *   passive j (a background responder, answering at once even mid-computation):
 *              on the request, reply with x_j;  when x_i arrives:  x_j <- (x_j + x_i) / 2
 * so fast peers are never held back by slow ones. The request carries no parameters, so the two
 * vectors cross the link at the same time (one transfer time per exchange, as in a synchronous
 * round) instead of one after the other. A neighbour that does not reply within the
 * timeout, or leaves the membership meanwhile (it finished or paused), is skipped (and avoided
 * for a few steps). Staleness is bounded: `version` counts the
 * averagings applied to x; the training loop drops a gradient computed on parameters more than
 * `maxStaleness` averagings old (see `isStale`).
 * Not here: the bipartite worker split of the paper (the concurrent responder cannot deadlock).
 */
import { mulberry32 } from '../util/random.ts';
import { type AlgorithmName, GossipPeer, type GossipInit, peerHash, type RoundReport, toCodec } from './base.ts';
import { DEFAULT_ADPSGD_TIMEOUT_MS, DEFAULT_MAX_STALENESS } from './constants.ts';
import { GossipConfigError, type NonFiniteUpdateError } from './errors.ts';
import type { PeerId } from './transport.ts';

export interface AdpsgdInit extends GossipInit {
  /** Drop gradients older than this many averagings (default 4). */
  maxStaleness?: number;
  /** Steps to avoid a neighbour that did not answer (default 3). */
  avoidSteps?: number;
}

export class Adpsgd extends GossipPeer {
  readonly name: AlgorithmName = 'adpsgd';
  readonly maxStaleness: number;
  private readonly avoidSteps: number;
  /** Number of averagings applied to x so far (active and passive). */
  version = 0;
  /** Passive averagings served, and requests rejected. */
  served = 0;
  readonly rejectedPassive: NonFiniteUpdateError[] = [];
  private x: Float32Array | undefined;
  private seq = 0;
  private readonly avoid = new Map<PeerId, number>();
  private readonly rand: () => number;
  private readonly abort = new AbortController();
  private responder: Promise<void> | undefined;
  /** Requesters whose exchange this peer is answering now. */
  private readonly answering = new Set<PeerId>();

  constructor(init: AdpsgdInit) {
    super({ ...init, timeoutMs: init.timeoutMs ?? DEFAULT_ADPSGD_TIMEOUT_MS }, init.topology ?? 'ring', toCodec(init.codec));
    this.maxStaleness = init.maxStaleness ?? DEFAULT_MAX_STALENESS;
    this.avoidSteps = init.avoidSteps ?? 3;
    this.rand = mulberry32(peerHash(init.transport.self));
  }

  /** `x` is the live parameter vector: the responder averages into it in place. */
  init(x: Float32Array): void {
    this.x = x;
    this.responder ??= this.serve();
  }

  /** True when a gradient computed at `versionAtGradient` is too stale to apply. */
  isStale(versionAtGradient: number): boolean {
    return this.version - versionAtGradient > this.maxStaleness;
  }

  override stop(): void {
    super.stop();
    this.abort.abort();
  }

  async mix(x: Float32Array, step: number): Promise<RoundReport> {
    if (this.x !== x) throw new GossipConfigError('adpsgd: mix() must be given the vector passed to init()');
    const nb = this.neighbours();
    const ready = nb.filter((p) => (this.avoid.get(p) ?? -1) < step);
    const pool = ready.length ? ready : nb;
    const report: RoundReport = { step, neighbours: [], mixed: [], missing: [], rejected: [], weights: new Map([[this.transport.self, 1]]) };
    if (pool.length === 0) return report;
    const j = pool[Math.floor(this.rand() * pool.length)];
    report.neighbours = [j];
    const seq = this.seq++;
    // The request first (a frame header), so j starts sending its x while ours is on the way.
    this.transport.send(j, { kind: 'adpsgd-req', step: seq, tensor: this.tensor, flags: 0, body: new Uint8Array(0) });
    const { body } = await this.encode(x, seq);
    this.transport.send(j, { kind: 'adpsgd-push', step: seq, tensor: this.tensor, flags: 0, body });
    const rep = await this.recvFrom(j, { kind: 'adpsgd-rep', step: seq, tensor: this.tensor }, this.timeoutMs, this.abort.signal);
    // Replies carry this peer's own increasing seq: a late one is never waited for again.
    this.transport.discardBelow('adpsgd-rep', seq + 1);
    if (!rep) {
      report.missing = [j];
      this.avoid.set(j, step + this.avoidSteps);
      return report;
    }
    const d = await this.decode(rep, x.length);
    if (d instanceof Error) {
      report.rejected = [d];
      return report;
    }
    for (let i = 0; i < x.length; i++) x[i] = 0.5 * (x[i] + d[i]);
    this.version++;
    report.mixed = [j];
    report.weights = new Map([[this.transport.self, 0.5], [j, 0.5]]);
    return report;
  }

  private async serve(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const m = await this.transport.recv({ kind: 'adpsgd-req', tensor: this.tensor }, Number.POSITIVE_INFINITY, this.abort.signal);
      if (!m) {
        // A closed or killed transport answers at once: do not spin.
        if (!this.abort.signal.aborted) await this.transport.clock.sleep(50);
        continue;
      }
      // Each request is answered on its own: the responder goes on serving others while the
      // requester's parameters are still arriving. A request costs the sender a frame header and
      // this peer a full reply, so each requester gets one answer at a time (a peer that has just
      // joined may not be in this peer's membership view yet: it is answered all the same).
      if (!this.x || this.answering.has(m.from)) continue;
      this.answering.add(m.from);
      void this.answer(m.from, m.step).finally(() => this.answering.delete(m.from));
    }
  }

  /** Reply with x_j at once, then average in the requester's x_i when it has arrived. */
  private async answer(from: PeerId, seq: number): Promise<void> {
    const x = this.x!;
    const { body } = await this.encode(x, seq);
    this.transport.send(from, { kind: 'adpsgd-rep', step: seq, tensor: this.tensor, flags: 0, body });
    const push = await this.recvFrom(from, { kind: 'adpsgd-push', step: seq, tensor: this.tensor }, this.timeoutMs, this.abort.signal);
    if (!push || this.abort.signal.aborted) return;
    const d = await this.decode(push, x.length);
    if (d instanceof Error) {
      this.rejectedPassive.push(d);
      return;
    }
    for (let i = 0; i < x.length; i++) x[i] = 0.5 * (x[i] + d[i]);
    this.version++;
    this.served++;
  }
}
