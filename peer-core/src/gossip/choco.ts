/**
 * choco: CHOCO-SGD, Koloskova, Stich & Jaggi 2019, "Decentralized Stochastic Optimization and
 * Gossip Algorithms with Compressed Communication" (ICML), Algorithm 2. After the local step
 * (x_i = x_i^{t+1/2}):
 *   q_i = C(x_i - x̂_i);  send q_i to neighbours;  x̂_j += D(q_j) for j ∈ N(i) ∪ {i}
 *   x_i += γ Σ_{j∈N(i)} w_ij (x̂_j - x̂_i)
 * Each peer keeps public copies x̂_j of its neighbours (all start at 0, or at the shared x0 with
 * `sharedInit`: every peer calls init with the same x0, so only the training updates have to
 * travel instead of x0 itself, which a 1% top-k would need ~100 rounds to deliver). Only differences
 * travel, and the copies absorb the compression error, so biased compressors (top-k, sign)
 * converge. Codecs are used without their own error feedback (x̂ plays that role).
 *
 * Faults: a copy is valid only while every q_j was applied. A neighbour that times out, sends a
 * rejected update, or is new after a topology change is marked out of sync and left out of the
 * mixing; the next message to it carries FLAG_RESYNC, and a peer asked so sends its full x̂
 * (fp32, FLAG_FULL) the next round, which restores the copy.
 */
import { type CodecSpec, createCodec } from '../codecs/index.ts';
import type { Codec } from '../codecs/types.ts';
import { encodeWire } from '../codecs/wire.ts';
import { type AlgorithmName, GossipPeer, type GossipInit, type InitOptions, type RoundReport } from './base.ts';
import { DEFAULT_CHOCO_GAMMA } from './constants.ts';
import { GossipConfigError } from './errors.ts';
import { FLAG_RESYNC } from './frame.ts';
import type { PeerId } from './transport.ts';

/** flags bit 1: the body is the sender's full public copy x̂ (fp32), not a difference. */
export const FLAG_FULL = 2;

/** Codecs inside CHOCO run without their own error feedback, and rand-k unscaled (a contraction). */
function chocoCodec(c: ChocoInit['codec']): Codec {
  if (c !== undefined && typeof c !== 'string' && 'compress' in c) return c;
  const spec: CodecSpec = c === undefined ? { name: 'none' } : typeof c === 'string' ? { name: c } : c;
  return createCodec({ ...spec, errorFeedback: spec.errorFeedback ?? false, scaled: spec.scaled ?? false });
}

export interface ChocoInit extends GossipInit {
  /** Consensus step size γ in (0, 1]. Default 0.5. */
  gamma?: number;
  /**
   * Every peer that starts together calls init() with the same x0 (a shared initialisation):
   * x̂_i and the copies of the neighbours start at x0 instead of 0. Default false.
   */
  sharedInit?: boolean;
}

export class Choco extends GossipPeer {
  readonly name: AlgorithmName = 'choco';
  readonly gamma: number;
  readonly sharedInit: boolean;
  private xhat: Float32Array | undefined;
  private readonly copies = new Map<PeerId, Float32Array>();
  /** Neighbours whose copy is out of sync (we ask them for a full x̂). */
  private readonly outOfSync = new Set<PeerId>();
  /** Neighbours that asked us for our full x̂. */
  private readonly owesFull = new Set<PeerId>();
  private readonly full = createCodec('none');

  constructor(init: ChocoInit) {
    super(init, init.topology ?? 'ring', chocoCodec(init.codec));
    this.gamma = init.gamma ?? DEFAULT_CHOCO_GAMMA;
    this.sharedInit = init.sharedInit ?? false;
    if (!(this.gamma > 0 && this.gamma <= 1)) throw new GossipConfigError(`choco: gamma must be in (0, 1], got ${this.gamma}`);
  }

  /**
   * Fresh start: every public copy is 0 on every peer (x0 with `sharedInit`), so the copies of the
   * neighbours start in sync. Joining a swarm that has been mixing (`joining`): the neighbours' x̂ are not 0
   * and this peer cannot know them, so every neighbour starts out of sync and is asked for its
   * full x̂ in the first round (the neighbours, seeing a new peer, ask for ours the same way).
   */
  init(x: Float32Array, opts: InitOptions = {}): void {
    const start = () => (this.sharedInit ? x.slice() : new Float32Array(x.length));
    this.xhat = start();
    this.copies.clear();
    this.outOfSync.clear();
    this.owesFull.clear();
    if (!opts.joining) for (const j of this.neighbours()) this.copies.set(j, start());
  }

  async mix(x: Float32Array, step: number): Promise<RoundReport> {
    const xhat = this.xhat;
    if (!xhat || xhat.length !== x.length) throw new GossipConfigError('choco: call init(x) with the initial parameters first');
    const n = x.length;
    const nb = this.neighbours();
    const w = this.weights();
    for (const j of [...this.copies.keys(), ...this.outOfSync, ...this.owesFull]) {
      if (nb.includes(j)) continue;
      this.copies.delete(j);
      this.outOfSync.delete(j);
      this.owesFull.delete(j);
    }
    for (const j of nb) if (!this.copies.has(j)) this.outOfSync.add(j);

    const diff = new Float32Array(n);
    for (let i = 0; i < n; i++) diff[i] = x[i] - xhat[i];
    const { body, decoded } = await this.encode(diff, step);
    for (let i = 0; i < n; i++) xhat[i] += decoded[i];
    const fullBody = this.owesFull.size ? encodeWire(this.full.compress(xhat)) : undefined;
    this.sendAll('choco-q', step, nb, (j) => {
      const resync = this.outOfSync.has(j) ? FLAG_RESYNC : 0;
      if (this.owesFull.has(j) && fullBody) return { body: fullBody, flags: FLAG_FULL | resync };
      return { body, flags: resync };
    });
    for (const j of nb) this.owesFull.delete(j);

    const got = await this.gather('choco-q', step, nb);
    const rejected = [];
    for (const j of nb) {
      const m = got.get(j);
      if (!m) {
        this.outOfSync.add(j);
        continue;
      }
      if (m.flags & FLAG_RESYNC) this.owesFull.add(j);
      const d = await this.decode(m, n);
      if (d instanceof Error) {
        rejected.push(d);
        this.outOfSync.add(j);
        continue;
      }
      if (m.flags & FLAG_FULL) {
        this.copies.set(j, d);
        this.outOfSync.delete(j);
      } else if (!this.outOfSync.has(j)) {
        const c = this.copies.get(j)!;
        for (let i = 0; i < n; i++) c[i] += d[i];
      }
    }
    const mixed: PeerId[] = [];
    const used = new Map<PeerId, number>();
    let selfW = 1;
    for (const j of nb) {
      if (this.outOfSync.has(j)) continue;
      const c = this.copies.get(j)!;
      const gw = this.gamma * w.get(j)!;
      for (let i = 0; i < n; i++) x[i] += gw * (c[i] - xhat[i]);
      mixed.push(j);
      used.set(j, gw);
      selfW -= gw;
    }
    used.set(this.transport.self, selfW);
    return { step, neighbours: nb, mixed, missing: nb.filter((p) => !got.has(p)), rejected, weights: used };
  }

  /** This peer's public copy x̂ (a copy), for tests. */
  publicCopy(): Float32Array | undefined {
    return this.xhat?.slice();
  }
}
