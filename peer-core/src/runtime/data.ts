/**
 * A peer's data for one job: the tokenized corpus (same split on every peer, so the held-out
 * set is shared), this peer's training shard, and the fixed held-out batches it evaluates on.
 *
 * Sharding (spec.dataset.sharding):
 *  - contiguous: the training split is cut into `count` equal contiguous pieces; peer `index`
 *    samples windows only from its piece (disjoint data, the hard case for averaging);
 *  - iid: every peer samples the whole training split with its own seed.
 * Not here: fetching (the caller passes the text or a loader) or streaming huge corpora.
 */
import { TokenDataset } from '../data/dataset.ts';
import type { JobSpec } from '../job/schema.ts';
import { ByteTokenizer, CharTokenizer, createGpt2Tokenizer, type Tokenizer } from '../tokenizer/index.ts';
import type { Batch } from '../train/train.ts';
import { mulberry32 } from '../util/random.ts';
import { RuntimeConfigError } from './errors.ts';

export interface Shard {
  index: number;
  count: number;
}

export async function tokenizerFor(spec: JobSpec, text: string): Promise<Tokenizer> {
  switch (spec.dataset.tokenizer) {
    case 'byte':
      return new ByteTokenizer();
    case 'char':
      return CharTokenizer.fromText(text);
    case 'gpt2':
      return createGpt2Tokenizer();
  }
}

/** Tokenize `text` the way the job says; the model's vocabulary must cover the tokenizer's. */
export async function jobDataset(spec: JobSpec, text: string): Promise<TokenDataset> {
  const tok = await tokenizerFor(spec, text);
  if (tok.vocabSize > spec.model.vocabSize) throw new RuntimeConfigError(`model.vocabSize ${spec.model.vocabSize} is smaller than the ${spec.dataset.tokenizer} tokenizer's ${tok.vocabSize}`);
  return new TokenDataset(tok.encode(text), spec.model.vocabSize, { heldOutFraction: spec.dataset.heldOutFraction });
}

/** Samples this peer's training batches from its shard. */
export class ShardSampler {
  readonly data: Int32Array;
  private readonly rand: () => number;

  constructor(
    ds: TokenDataset,
    readonly spec: JobSpec,
    readonly shard: Shard,
    seed: number,
  ) {
    const T = spec.model.contextLength;
    if (spec.dataset.sharding === 'iid' || shard.count <= 1) this.data = ds.train;
    else {
      const len = ds.train.length;
      const lo = Math.floor((shard.index * len) / shard.count);
      const hi = Math.floor(((shard.index + 1) * len) / shard.count);
      this.data = ds.train.subarray(lo, hi);
    }
    if (this.data.length < T + 1) throw new RuntimeConfigError(`shard ${shard.index}/${shard.count} has ${this.data.length} tokens, fewer than one window of ${T + 1}`);
    this.rand = mulberry32(seed >>> 0);
  }

  /** One batch of `spec.batch.perPeer` random windows. */
  next(): Batch {
    const B = this.spec.batch.perPeer;
    const T = this.spec.model.contextLength;
    const span = this.data.length - T - 1;
    const tokens = new Int32Array(B * T);
    const targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const s = Math.floor(this.rand() * (span + 1));
      tokens.set(this.data.subarray(s, s + T), b * T);
      targets.set(this.data.subarray(s + 1, s + T + 1), b * T);
    }
    return { B, T, tokens, targets };
  }
}
