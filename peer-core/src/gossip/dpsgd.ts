/**
 * dpsgd: D-PSGD, Lian et al. 2017, "Can Decentralized Algorithms Outperform Centralized
 * Algorithms? A Case Study for Decentralized Parallel Stochastic Gradient Descent" (NeurIPS),
 * in its adapt-then-combine form: a local SGD step, then one gossip round
 *   x_i <- w_ii x_i + Σ_{j∈N(i)} w_ij D(C(x_j))
 * with Metropolis–Hastings weights on the current topology. The mass of a neighbour that timed
 * out or sent a rejected update moves to w_ii (the row still sums to 1).
 * With a lossy codec the parameters themselves are compressed each round; biased codecs (topk,
 * sign) do not converge this way — that is what CHOCO-SGD (choco.ts) fixes.
 */
import { type AlgorithmName, GossipPeer, type GossipInit, type RoundReport, toCodec } from './base.ts';

export class Dpsgd extends GossipPeer {
  readonly name: AlgorithmName = 'dpsgd';

  constructor(init: GossipInit) {
    super(init, init.topology ?? 'ring', toCodec(init.codec));
  }

  init(_x: Float32Array): void {}

  async mix(x: Float32Array, step: number): Promise<RoundReport> {
    const n = x.length;
    const nb = this.neighbours();
    const w = this.weights();
    const { body } = await this.encode(x, step);
    this.sendAll('params', step, nb, () => ({ body }));
    const got = await this.gather('params', step, nb);
    const self = this.transport.self;
    const acc = new Float64Array(n);
    const used = new Map<string, number>();
    let selfW = w.get(self)!;
    const mixed: string[] = [];
    const rejected = [];
    for (const j of nb) {
      const m = got.get(j);
      const d = m ? await this.decode(m, n) : undefined;
      if (d instanceof Error) rejected.push(d);
      if (!d || d instanceof Error) {
        selfW += w.get(j)!;
        continue;
      }
      const wj = w.get(j)!;
      for (let i = 0; i < n; i++) acc[i] += wj * d[i];
      used.set(j, wj);
      mixed.push(j);
    }
    for (let i = 0; i < n; i++) x[i] = acc[i] + selfW * x[i];
    used.set(self, selfW);
    return { step, neighbours: nb, mixed, missing: nb.filter((p) => !got.has(p)), rejected, weights: used };
  }
}
