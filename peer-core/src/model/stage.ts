/**
 * A pipeline stage of the GPT: a contiguous range of blocks [firstLayer, endLayer); the first
 * stage (firstLayer 0) also owns the token + position embedding, the last (endLayer L) also
 * ln_f, the tied lm head and the loss. The whole model is the one-stage case.
 *
 *   forward(mb, activationsIn, batch)  -> activationsOut (B,T,C), or the losses (B*T) on the last stage
 *   backward(mb, gradOut, lossScale)   -> gradIn (B,T,C), or null on the first stage
 *
 * `mb` selects an activation slot: a stage keeps the activations of up to `slots` micro-batches
 * between their forward and backward (GPipe-style schedules need one slot per micro-batch in
 * flight). Backward accumulates (+=) parameter gradients into the model's flat gradient
 * buffer, so gradients of several micro-batches add up; the caller zeroes them per step.
 * The loss is mean-reduced by `lossScale` = 1 / (valid targets in the whole step).
 *
 * Attention is fused or unfused as `StageInit.attention` says (default: the backend's
 * `attention`): fused keeps only the per-row logsumexp lse (B,NH,T) per layer and needs no
 * dpreatt/datt scratch; unfused keeps preatt and att (B,NH,T,T) per layer.
 *
 * The op sequence follows llm.c's gpt2_forward/gpt2_backward. Returned tensors belong to the
 * stage: activationsOut stays valid until the next forward into the same slot, gradIn until
 * the next backward. Across peers, read them and write them into the next stage's input.
 */
import type { AttentionKind, Backend, Tensor } from '../backend/types.ts';
import { ArenaBuilder } from './arena.ts';
import { ModelInputError } from './errors.ts';
import type { GPT } from './gpt.ts';

export interface StageInit {
  firstLayer: number;
  /** One past the last block. */
  endLayer: number;
  /** Micro-batch size (sequences). */
  B: number;
  /** Sequence length, <= contextLength. */
  T: number;
  /** Micro-batches whose activations are kept at once (default 1). */
  slots?: number;
  /** Fused (flash) or unfused attention; default the backend's `attention`. */
  attention?: AttentionKind;
}

/** Host-side data of one micro-batch: token ids and next-token targets, B*T each (row-major). */
export interface MicroBatch {
  /** Needed by the first stage. */
  tokens?: Int32Array;
  /** Needed by the last stage for a loss; negative = no target. Omitted: no loss (all -1). */
  targets?: Int32Array;
}

interface LayerActs {
  ln1: Tensor;
  ln1Mean: Tensor;
  ln1Rstd: Tensor;
  qkv: Tensor;
  atty: Tensor;
  /** Unfused attention only: scores and probabilities (B,NH,T,T). */
  preatt: Tensor | null;
  att: Tensor | null;
  /** Fused attention only: per-row logsumexp (B,NH,T). */
  lse: Tensor | null;
  attproj: Tensor;
  res2: Tensor;
  ln2: Tensor;
  ln2Mean: Tensor;
  ln2Rstd: Tensor;
  fch: Tensor;
  fchGelu: Tensor;
  fcproj: Tensor;
  res3: Tensor;
}

interface Slot {
  /** The stage input (B,T,C): the embedding output on the first stage, else a copy of activationsIn. */
  input: Tensor;
  layers: LayerActs[];
  tokens: Tensor | null;
  targets: Tensor | null;
  lnf: Tensor | null;
  lnfMean: Tensor | null;
  lnfRstd: Tensor | null;
  logits: Tensor | null;
  probs: Tensor | null;
  losses: Tensor | null;
  forwarded: boolean;
}

interface Scratch {
  dcur: Tensor;
  dprev: Tensor;
  dres2: Tensor;
  dfcproj: Tensor;
  dfchGelu: Tensor;
  dfch: Tensor;
  dln2: Tensor;
  dattproj: Tensor;
  datty: Tensor;
  dqkv: Tensor;
  /** Unfused attention only. */
  dpreatt: Tensor | null;
  datt: Tensor | null;
  dln1: Tensor;
  dlnf: Tensor | null;
  dlogits: Tensor | null;
  dlosses: Tensor | null;
}

export class GPTStage {
  readonly isFirst: boolean;
  readonly isLast: boolean;
  readonly firstLayer: number;
  readonly endLayer: number;
  readonly B: number;
  readonly T: number;
  readonly slots: number;
  readonly attention: AttentionKind;
  private readonly backend: Backend;
  private readonly slotData: Slot[] = [];
  private readonly scratch: Scratch;
  private readonly roots: Tensor[] = [];

  constructor(
    readonly model: GPT,
    { firstLayer, endLayer, B, T, slots = 1, attention }: StageInit,
  ) {
    const { nLayer: L, contextLength, nEmbd: C, nHead: NH, vocabSize: V } = model.config;
    if (!Number.isInteger(firstLayer) || !Number.isInteger(endLayer) || firstLayer < 0 || endLayer > L || endLayer <= firstLayer) {
      throw new ModelInputError(`stage blocks [${firstLayer}, ${endLayer}) must be a non-empty range within [0, ${L})`);
    }
    if (!Number.isInteger(B) || B <= 0 || !Number.isInteger(T) || T <= 0 || T > contextLength) {
      throw new ModelInputError(`micro-batch B=${B}, T=${T} must be positive with T <= contextLength ${contextLength}`);
    }
    if (!Number.isInteger(slots) || slots <= 0) throw new ModelInputError(`slots must be a positive integer, got ${slots}`);
    const kind = attention ?? model.backend.attention;
    if (kind !== 'fused' && kind !== 'unfused') throw new ModelInputError(`attention must be 'fused' or 'unfused', got ${String(kind)}`);
    this.attention = kind;
    const fused = kind === 'fused';
    this.firstLayer = firstLayer;
    this.endLayer = endLayer;
    this.B = B;
    this.T = T;
    this.slots = slots;
    this.isFirst = firstLayer === 0;
    this.isLast = endLayer === L;
    this.backend = model.backend;
    const be = this.backend;
    const BT = B * T;
    const nl = endLayer - firstLayer;
    const att = B * NH * T * T;
    const none = -1;

    for (let s = 0; s < slots; s++) {
      const f = new ArenaBuilder('f32');
      const input = f.reserve(BT * C);
      const layerIx = Array.from({ length: nl }, () => ({
        ln1: f.reserve(BT * C),
        ln1Mean: f.reserve(BT),
        ln1Rstd: f.reserve(BT),
        qkv: f.reserve(BT * 3 * C),
        atty: f.reserve(BT * C),
        preatt: fused ? none : f.reserve(att),
        att: fused ? none : f.reserve(att),
        lse: fused ? f.reserve(B * NH * T) : none,
        attproj: f.reserve(BT * C),
        res2: f.reserve(BT * C),
        ln2: f.reserve(BT * C),
        ln2Mean: f.reserve(BT),
        ln2Rstd: f.reserve(BT),
        fch: f.reserve(BT * 4 * C),
        fchGelu: f.reserve(BT * 4 * C),
        fcproj: f.reserve(BT * C),
        res3: f.reserve(BT * C),
      }));
      const last = this.isLast
        ? { lnf: f.reserve(BT * C), lnfMean: f.reserve(BT), lnfRstd: f.reserve(BT), logits: f.reserve(BT * V), probs: f.reserve(BT * V), losses: f.reserve(BT) }
        : null;
      const ints = new ArenaBuilder('i32');
      const tokens = this.isFirst ? ints.reserve(BT) : -1;
      const targets = this.isLast ? ints.reserve(BT) : -1;
      const fa = f.build(be);
      const ia = ints.build(be);
      this.roots.push(...fa.roots, ...ia.roots);
      const v = fa.views;
      const layers = layerIx.map((ix) => Object.fromEntries(Object.entries(ix).map(([k, i]) => [k, i >= 0 ? v[i] : null])) as unknown as LayerActs);
      this.slotData.push({
        input: v[input],
        layers,
        tokens: tokens >= 0 ? ia.views[tokens] : null,
        targets: targets >= 0 ? ia.views[targets] : null,
        lnf: last ? v[last.lnf] : null,
        lnfMean: last ? v[last.lnfMean] : null,
        lnfRstd: last ? v[last.lnfRstd] : null,
        logits: last ? v[last.logits] : null,
        probs: last ? v[last.probs] : null,
        losses: last ? v[last.losses] : null,
        forwarded: false,
      });
    }

    const g = new ArenaBuilder('f32');
    const gi = {
      dcur: g.reserve(BT * C),
      dprev: g.reserve(BT * C),
      dres2: g.reserve(BT * C),
      dfcproj: g.reserve(BT * C),
      dfchGelu: g.reserve(BT * 4 * C),
      dfch: g.reserve(BT * 4 * C),
      dln2: g.reserve(BT * C),
      dattproj: g.reserve(BT * C),
      datty: g.reserve(BT * C),
      dqkv: g.reserve(BT * 3 * C),
      dpreatt: fused ? none : g.reserve(att),
      datt: fused ? none : g.reserve(att),
      dln1: g.reserve(BT * C),
      dlnf: this.isLast ? g.reserve(BT * C) : -1,
      dlogits: this.isLast ? g.reserve(BT * V) : -1,
      dlosses: this.isLast ? g.reserve(BT) : -1,
    };
    const ga = g.build(be);
    this.roots.push(...ga.roots);
    this.scratch = Object.fromEntries(Object.entries(gi).map(([k, i]) => [k, i >= 0 ? ga.views[i] : null])) as unknown as Scratch;
  }

  private slot(mb: number): Slot {
    const s = this.slotData[mb];
    if (!s) throw new ModelInputError(`micro-batch slot ${mb} is outside [0, ${this.slots})`);
    return s;
  }

  private p(layer: number, name: string): Tensor {
    return this.model.param(`h.${layer}.${name}`);
  }

  private g(layer: number, name: string): Tensor {
    return this.model.grad(`h.${layer}.${name}`);
  }

  /**
   * Runs the stage on micro-batch slot `mb`. The first stage reads `batch.tokens` (activationsIn
   * must be null); others read activationsIn (B,T,C). The last stage reads `batch.targets` and
   * returns the per-position losses (B*T); others return their output activations (B,T,C).
   */
  forward(mb: number, activationsIn: Tensor | null, batch: MicroBatch = {}): Tensor {
    const be = this.backend;
    const { nEmbd: C, nHead: NH, vocabSize: V } = this.model.config;
    const { B, T } = this;
    const BT = B * T;
    const s = this.slot(mb);
    if (this.isFirst) {
      if (activationsIn) throw new ModelInputError('the first stage takes tokens, not activations');
      const tokens = checkIds('tokens', batch.tokens, BT, V, false);
      be.write(s.tokens!, tokens);
      be.encoderForward(s.input, s.tokens!, this.model.param('wte.weight'), this.model.param('wpe.weight'), B, T, C);
    } else {
      if (!activationsIn) throw new ModelInputError(`stage [${this.firstLayer}, ${this.endLayer}) needs activations from the previous stage`);
      if (activationsIn.length !== BT * C) throw new ModelInputError(`activationsIn holds ${activationsIn.length} floats, needs B*T*C = ${BT * C}`);
      be.copy(s.input, activationsIn);
    }
    let res = s.input;
    for (let i = 0; i < s.layers.length; i++) {
      const l = this.firstLayer + i;
      const a = s.layers[i];
      be.layernormForward(a.ln1, a.ln1Mean, a.ln1Rstd, res, this.p(l, 'ln_1.weight'), this.p(l, 'ln_1.bias'), BT, C);
      be.matmulForward(a.qkv, a.ln1, this.p(l, 'attn.c_attn.weight'), this.p(l, 'attn.c_attn.bias'), { M: BT, K: C, N: 3 * C });
      if (a.lse) be.flashAttentionForward(a.atty, a.lse, a.qkv, B, T, C, NH);
      else be.attentionForward(a.atty, a.preatt!, a.att!, a.qkv, B, T, C, NH);
      be.matmulForward(a.attproj, a.atty, this.p(l, 'attn.c_proj.weight'), this.p(l, 'attn.c_proj.bias'), { M: BT, K: C, N: C });
      be.residualForward(a.res2, res, a.attproj, BT * C);
      be.layernormForward(a.ln2, a.ln2Mean, a.ln2Rstd, a.res2, this.p(l, 'ln_2.weight'), this.p(l, 'ln_2.bias'), BT, C);
      be.matmulForward(a.fch, a.ln2, this.p(l, 'mlp.c_fc.weight'), this.p(l, 'mlp.c_fc.bias'), { M: BT, K: C, N: 4 * C });
      be.geluForward(a.fchGelu, a.fch, BT * 4 * C);
      be.matmulForward(a.fcproj, a.fchGelu, this.p(l, 'mlp.c_proj.weight'), this.p(l, 'mlp.c_proj.bias'), { M: BT, K: 4 * C, N: C });
      be.residualForward(a.res3, a.res2, a.fcproj, BT * C);
      res = a.res3;
    }
    s.forwarded = true;
    if (!this.isLast) return res;
    const targets = batch.targets ? checkIds('targets', batch.targets, BT, V, true) : new Int32Array(BT).fill(-1);
    be.write(s.targets!, targets);
    be.layernormForward(s.lnf!, s.lnfMean!, s.lnfRstd!, res, this.model.param('ln_f.weight'), this.model.param('ln_f.bias'), BT, C);
    be.matmulForward(s.logits!, s.lnf!, this.model.param('wte.weight'), null, { M: BT, K: C, N: V, transB: true });
    be.softmaxCrossEntropyForward(s.losses!, s.probs!, s.logits!, s.targets!, BT, V);
    return s.losses!;
  }

  /** Logits (B,T,V) of slot `mb` after forward (last stage only). */
  logits(mb = 0): Tensor {
    if (!this.isLast) throw new ModelInputError('only the last stage has logits');
    return this.slot(mb).logits!;
  }

  /**
   * Backward of slot `mb`. The last stage starts from the loss (gradOut must be null) with
   * d(loss)/d(loss_n) = lossScale for every position that has a target; others start from
   * gradOut (B,T,C), the gradient of their output. Returns the gradient of the stage input
   * (B,T,C), or null on the first stage (which ends in the embedding gradients).
   */
  backward(mb: number, gradOut: Tensor | null, lossScale = 1): Tensor | null {
    const be = this.backend;
    const { nEmbd: C, nHead: NH, vocabSize: V } = this.model.config;
    const { B, T } = this;
    const BT = B * T;
    const s = this.slot(mb);
    const d = this.scratch;
    if (!s.forwarded) throw new ModelInputError(`backward of slot ${mb} before its forward`);
    const stageOut = s.layers[s.layers.length - 1].res3;
    if (this.isLast) {
      if (gradOut) throw new ModelInputError('the last stage starts backward from the loss; gradOut must be null');
      be.fill(d.dlosses!, lossScale);
      be.zero(d.dlogits!);
      be.softmaxCrossEntropyBackward(d.dlogits!, d.dlosses!, s.probs!, s.targets!, BT, V);
      be.zero(d.dlnf!);
      be.matmulBackward(d.dlnf!, this.model.grad('wte.weight'), null, d.dlogits!, s.lnf!, this.model.param('wte.weight'), { M: BT, K: C, N: V, transB: true });
      be.zero(d.dcur);
      be.layernormBackward(d.dcur, this.model.grad('ln_f.weight'), this.model.grad('ln_f.bias'), d.dlnf!, stageOut, this.model.param('ln_f.weight'), s.lnfMean!, s.lnfRstd!, BT, C);
    } else {
      if (!gradOut) throw new ModelInputError(`stage [${this.firstLayer}, ${this.endLayer}) needs the gradient of its output`);
      if (gradOut.length !== BT * C) throw new ModelInputError(`gradOut holds ${gradOut.length} floats, needs B*T*C = ${BT * C}`);
      be.copy(d.dcur, gradOut);
    }
    let dcur = d.dcur;
    let dprev = d.dprev;
    for (let i = s.layers.length - 1; i >= 0; i--) {
      const l = this.firstLayer + i;
      const a = s.layers[i];
      const resIn = i === 0 ? s.input : s.layers[i - 1].res3;
      // res3 = res2 + fcproj
      be.zero(d.dres2);
      be.zero(d.dfcproj);
      be.residualBackward(d.dres2, d.dfcproj, dcur, BT * C);
      be.zero(d.dfchGelu);
      be.matmulBackward(d.dfchGelu, this.g(l, 'mlp.c_proj.weight'), this.g(l, 'mlp.c_proj.bias'), d.dfcproj, a.fchGelu, this.p(l, 'mlp.c_proj.weight'), { M: BT, K: 4 * C, N: C });
      be.zero(d.dfch);
      be.geluBackward(d.dfch, a.fch, d.dfchGelu, BT * 4 * C);
      be.zero(d.dln2);
      be.matmulBackward(d.dln2, this.g(l, 'mlp.c_fc.weight'), this.g(l, 'mlp.c_fc.bias'), d.dfch, a.ln2, this.p(l, 'mlp.c_fc.weight'), { M: BT, K: C, N: 4 * C });
      be.layernormBackward(d.dres2, this.g(l, 'ln_2.weight'), this.g(l, 'ln_2.bias'), d.dln2, a.res2, this.p(l, 'ln_2.weight'), a.ln2Mean, a.ln2Rstd, BT, C);
      // res2 = resIn + attproj
      be.zero(dprev);
      be.zero(d.dattproj);
      be.residualBackward(dprev, d.dattproj, d.dres2, BT * C);
      be.zero(d.datty);
      be.matmulBackward(d.datty, this.g(l, 'attn.c_proj.weight'), this.g(l, 'attn.c_proj.bias'), d.dattproj, a.atty, this.p(l, 'attn.c_proj.weight'), { M: BT, K: C, N: C });
      be.zero(d.dqkv);
      if (a.lse) be.flashAttentionBackward(d.dqkv, d.datty, a.qkv, a.atty, a.lse, B, T, C, NH);
      else {
        be.zero(d.dpreatt!);
        be.zero(d.datt!);
        be.attentionBackward(d.dqkv, d.dpreatt!, d.datt!, d.datty, a.qkv, a.att!, B, T, C, NH);
      }
      be.zero(d.dln1);
      be.matmulBackward(d.dln1, this.g(l, 'attn.c_attn.weight'), this.g(l, 'attn.c_attn.bias'), d.dqkv, a.ln1, this.p(l, 'attn.c_attn.weight'), { M: BT, K: C, N: 3 * C });
      be.layernormBackward(dprev, this.g(l, 'ln_1.weight'), this.g(l, 'ln_1.bias'), d.dln1, resIn, this.p(l, 'ln_1.weight'), a.ln1Mean, a.ln1Rstd, BT, C);
      [dcur, dprev] = [dprev, dcur];
    }
    if (this.isFirst) {
      be.encoderBackward(this.model.grad('wte.weight'), this.model.grad('wpe.weight'), dcur, s.tokens!, B, T, C);
      return null;
    }
    return dcur;
  }

  dispose(): void {
    for (const r of this.roots) this.backend.free(r);
    this.roots.length = 0;
  }
}

function checkIds(what: string, ids: Int32Array | undefined, n: number, V: number, allowNegative: boolean): Int32Array {
  if (!(ids instanceof Int32Array)) throw new ModelInputError(`${what}: an Int32Array of B*T = ${n} ids is required`);
  if (ids.length !== n) throw new ModelInputError(`${what}: ${ids.length} ids, needs B*T = ${n}`);
  for (let i = 0; i < n; i++) {
    const t = ids[i];
    if (t >= V || (t < 0 && !allowNegative)) throw new ModelInputError(`${what}[${i}] = ${t} is outside the vocabulary [0, ${V})`);
  }
  return ids;
}
