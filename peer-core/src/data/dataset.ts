/**
 * A tokenized corpus with a held-out split, and the batches the trainer consumes. Pure JS: the
 * same code runs in the browser (text from `fetchCorpusText`) and in Node (text from
 * `loadCorpusText` in ./node.ts).
 *
 * Split: the last `heldOutFraction` of the token stream is held out (never sampled for
 * training), as nanoGPT does. Batches are windows of T+1 tokens: tokens = w[0..T), targets =
 * w[1..T].
 */
import type { Tokenizer } from '../tokenizer/index.ts';
import type { Batch } from '../train/train.ts';

export type Split = 'train' | 'heldOut';

/** Bad dataset arguments (a split shorter than one window, a bad fraction, ...). */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

export interface DatasetInit {
  /** Fraction of tokens held out at the end (default 0.1). */
  heldOutFraction?: number;
}

export class TokenDataset {
  readonly train: Int32Array;
  readonly heldOut: Int32Array;

  constructor(
    tokens: ArrayLike<number>,
    readonly vocabSize: number,
    { heldOutFraction = 0.1 }: DatasetInit = {},
  ) {
    if (!(heldOutFraction > 0 && heldOutFraction < 1)) throw new DatasetError(`heldOutFraction must be in (0, 1), got ${heldOutFraction}`);
    const all = Int32Array.from(tokens);
    for (let i = 0; i < all.length; i++) if (all[i] < 0 || all[i] >= vocabSize) throw new DatasetError(`token ${all[i]} at ${i} is outside [0, ${vocabSize})`);
    const cut = Math.floor(all.length * (1 - heldOutFraction));
    this.train = all.subarray(0, cut);
    this.heldOut = all.subarray(cut);
  }

  static fromText(text: string, tokenizer: Tokenizer, init?: DatasetInit): TokenDataset {
    return new TokenDataset(tokenizer.encode(text), tokenizer.vocabSize, init);
  }

  private split(s: Split): Int32Array {
    return s === 'train' ? this.train : this.heldOut;
  }

  private window(data: Int32Array, start: number, T: number, tokens: Int32Array, targets: Int32Array, row: number): void {
    tokens.set(data.subarray(start, start + T), row * T);
    targets.set(data.subarray(start + 1, start + T + 1), row * T);
  }

  /** B random windows of the split; `rand` returns [0,1) (e.g. mulberry32(seed)). */
  sampleBatch(s: Split, B: number, T: number, rand: () => number): Batch {
    const data = this.split(s);
    const span = data.length - T - 1;
    if (span < 0) throw new DatasetError(`${s} split has ${data.length} tokens, fewer than one window of ${T + 1}`);
    const tokens = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) this.window(data, Math.floor(rand() * (span + 1)), T, tokens, targets, b);
    return { B, T, tokens, targets };
  }

  /** `count` batches of B windows at evenly spaced fixed offsets of the split (deterministic). */
  evalBatches(s: Split, B: number, T: number, count: number): Batch[] {
    const data = this.split(s);
    const span = data.length - T - 1;
    if (span < 0) throw new DatasetError(`${s} split has ${data.length} tokens, fewer than one window of ${T + 1}`);
    const n = B * count;
    const out: Batch[] = [];
    for (let c = 0; c < count; c++) {
      const tokens = new Int32Array(B * T);
      const targets = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        const k = c * B + b;
        this.window(data, n === 1 ? 0 : Math.floor((k * span) / (n - 1)), T, tokens, targets, b);
      }
      out.push({ B, T, tokens, targets });
    }
    return out;
  }

  /**
   * The unigram baseline: cross-entropy (nats/token) on the held-out split of the unigram
   * distribution of the training split (add-one smoothed, so unseen tokens have finite cost).
   * A model that learned anything beyond token frequencies beats it.
   */
  unigramHeldOutLoss(): number {
    const counts = new Float64Array(this.vocabSize).fill(1);
    for (const t of this.train) counts[t]++;
    const total = this.train.length + this.vocabSize;
    let nll = 0;
    for (const t of this.heldOut) nll -= Math.log(counts[t] / total);
    return nll / this.heldOut.length;
  }
}
