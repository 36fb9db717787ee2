/**
 * allreduce: the synchronous exact-average baseline (data-parallel SGD as in a parameter-server
 * or ring all-reduce, here all-to-all as DISCO does). Each step every peer sends its compressed
 * local update Δ_i = x_i - x̄_prev to every other member and sets
 *   x = x̄_prev + (1/|S|) Σ_{j∈S} D(C(Δ_j)),   S = self + the peers heard from this round.
 * With the `none` codec and no faults this is the exact average, identical on every replica.
 * Biased codecs (topk, sign) keep their error-feedback residual per peer (EF-SGD, Karimireddy
 * et al. 2019). A peer that misses the timeout is left out of that round's mean.
 * Not here: bandwidth-optimal ring/tree schedules (all-to-all costs (N-1)× the message per peer).
 */
import { type AlgorithmName, GossipPeer, type GossipInit, type RoundReport, toCodec } from './base.ts';
import { GossipConfigError } from './errors.ts';

export class AllReduce extends GossipPeer {
  readonly name: AlgorithmName = 'allreduce';
  private base: Float32Array | undefined;

  constructor(init: GossipInit) {
    super(init, 'full', toCodec(init.codec));
  }

  init(x: Float32Array): void {
    this.base = x.slice();
  }

  async mix(x: Float32Array, step: number): Promise<RoundReport> {
    const base = this.base;
    if (!base || base.length !== x.length) throw new GossipConfigError('allreduce: call init(x) with the initial parameters first');
    const n = x.length;
    const delta = new Float32Array(n);
    for (let i = 0; i < n; i++) delta[i] = x[i] - base[i];
    const { body, decoded } = await this.encode(delta, step);
    const others = this.topology().members.filter((p) => p !== this.transport.self);
    this.sendAll('delta', step, others, () => ({ body }));
    const got = await this.gather('delta', step, others);
    const sum = Float64Array.from(decoded);
    const mixed: string[] = [];
    const rejected = [];
    for (const [p, m] of got) {
      const d = await this.decode(m, n);
      if (d instanceof Error) {
        rejected.push(d);
        continue;
      }
      for (let i = 0; i < n; i++) sum[i] += d[i];
      mixed.push(p);
    }
    const k = 1 + mixed.length;
    for (let i = 0; i < n; i++) x[i] = base[i] + sum[i] / k;
    this.base = x.slice();
    const weights = new Map<string, number>([[this.transport.self, 1 / k], ...mixed.map((p) => [p, 1 / k] as [string, number])]);
    return { step, neighbours: others, mixed, missing: others.filter((p) => !got.has(p)), rejected, weights };
  }
}
