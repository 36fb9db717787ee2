/**
 * The GPT model object: config, the flat parameter buffer and its gradient buffer (same
 * layout), named views into both, and factories for stages. Computation lives in stage.ts;
 * this file only owns memory.
 */
import type { Backend, Tensor } from '../backend/types.ts';
import type { GPTConfig } from './config.ts';
import { ModelInputError } from './errors.ts';
import { initParams } from './init.ts';
import { buildLayout, type ParamLayout } from './layout.ts';
import { GPTStage, type StageInit } from './stage.ts';

export interface GPTInit {
  /** Seed of the deterministic GPT-2 init (default 0). Ignored when `params` is given. */
  seed?: number;
  /** Initial flat parameters (layout.totalLength floats), e.g. from a checkpoint. */
  params?: Float32Array;
}

export class GPT {
  readonly layout: ParamLayout;
  /** Every parameter, one contiguous buffer (see layout.ts). */
  readonly params: Tensor;
  /** Gradients, same layout as params; backward accumulates into it. */
  readonly grads: Tensor;
  private readonly paramViews = new Map<string, Tensor>();
  private readonly gradViews = new Map<string, Tensor>();
  private readonly stages = new Map<string, GPTStage>();

  constructor(
    readonly backend: Backend,
    readonly config: GPTConfig,
    { seed = 0, params }: GPTInit = {},
  ) {
    this.layout = buildLayout(config);
    this.params = backend.alloc(this.layout.totalLength);
    this.grads = backend.alloc(this.layout.totalLength);
    this.setParams(params ?? initParams(this.layout, seed));
    for (const s of this.layout.specs) {
      this.paramViews.set(s.name, backend.view(this.params, s.offset, s.length));
      this.gradViews.set(s.name, backend.view(this.grads, s.offset, s.length));
    }
  }

  /** Number of parameters (padding excluded). */
  get numParams(): number {
    return this.layout.numParams;
  }

  /** The view of one named parameter (e.g. 'h.0.attn.c_attn.weight'). */
  param(name: string): Tensor {
    const t = this.paramViews.get(name);
    if (!t) throw new ModelInputError(`no parameter named '${name}'`);
    return t;
  }

  /** The view of one named gradient. */
  grad(name: string): Tensor {
    const t = this.gradViews.get(name);
    if (!t) throw new ModelInputError(`no gradient named '${name}'`);
    return t;
  }

  zeroGrad(): void {
    this.backend.zero(this.grads);
  }

  /** A copy of the flat parameter buffer. */
  getParams(): Promise<Float32Array> {
    return this.backend.read(this.params);
  }

  /** A copy of the flat gradient buffer. */
  getGrads(): Promise<Float32Array> {
    return this.backend.read(this.grads);
  }

  /** Replaces the flat parameter buffer. */
  setParams(flat: Float32Array): void {
    if (flat.length !== this.layout.totalLength) {
      throw new ModelInputError(`flat params hold ${flat.length} floats, the layout needs ${this.layout.totalLength}`);
    }
    this.backend.write(this.params, flat);
  }

  /**
   * A stage over blocks [firstLayer, endLayer) for micro-batches of B×T tokens; the first stage
   * also runs the embeddings, the last one ln_f, the tied head and the loss. It reads this
   * model's parameters and accumulates into its gradients.
   */
  createStage(init: StageInit): GPTStage {
    return new GPTStage(this, init);
  }

  /**
   * The whole model as one stage for micro-batches of B×T tokens, cached per (B, T, slots);
   * trainStep/evalLoss/generate use it.
   */
  wholeModel(B: number, T: number, slots = 1): GPTStage {
    const key = `${B}x${T}x${slots}`;
    let s = this.stages.get(key);
    if (!s) {
      s = this.createStage({ firstLayer: 0, endLayer: this.config.nLayer, B, T, slots });
      this.stages.set(key, s);
    }
    return s;
  }

  /**
   * Splits the blocks into `boundaries.length + 1` stages: boundaries are the first block of
   * every stage after the first, e.g. [1, 3] over 4 blocks gives [0,1), [1,3), [3,4).
   */
  split(boundaries: number[], B: number, T: number, slots = 1): GPTStage[] {
    const cuts = [0, ...boundaries, this.config.nLayer];
    for (let i = 1; i < cuts.length; i++) {
      if (!(cuts[i] > cuts[i - 1])) throw new ModelInputError(`stage boundaries ${JSON.stringify(boundaries)} must increase within (0, ${this.config.nLayer})`);
    }
    return cuts.slice(1).map((end, i) => this.createStage({ firstLayer: cuts[i], endLayer: end, B, T, slots }));
  }

  dispose(): void {
    for (const s of this.stages.values()) s.dispose();
    this.stages.clear();
    this.backend.free(this.params);
    this.backend.free(this.grads);
  }
}
