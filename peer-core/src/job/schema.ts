/**
 * The job spec schema (zod): one JSON document describing a decentralized training job —
 * model, dataset and split, optimizer and schedule, per-peer batch, algorithm, topology, codec
 * and mixing, stopping criteria. Every field has a documented default, so `{}` is the small demo
 * job. Cross-field rules (heads divide width, γ only for choco, ...) are checked in superRefine
 * so that each violation is reported at the field it concerns.
 */
import { z } from 'zod';

export const JOB_SPEC_VERSION = 1;

const posInt = z.number().int().positive();
const unit = z.number().gt(0).lte(1);

export const ModelSchema = z
  .object({
    kind: z.literal('gpt').default('gpt'),
    /** Vocabulary size; must match the tokenizer (gpt2: 50257; char/byte: the tokenizer's). */
    vocabSize: posInt.default(256),
    contextLength: posInt.default(64),
    nLayer: posInt.default(2),
    nHead: posInt.default(4),
    nEmbd: posInt.default(64),
    /** Seed of the shared initialisation (every peer starts from the same x0). */
    initSeed: z.number().int().nonnegative().default(1337),
  })
  .strict()
  .default({ kind: 'gpt', vocabSize: 256, contextLength: 64, nLayer: 2, nHead: 4, nEmbd: 64, initSeed: 1337 });

export const DatasetSchema = z
  .object({
    corpus: z.enum(['moby-dick', 'sotu', 'brown']).default('moby-dick'),
    tokenizer: z.enum(['byte', 'char', 'gpt2']).default('byte'),
    /** Fraction of the token stream held out for evaluation (the tail). */
    heldOutFraction: z.number().gt(0).lt(1).default(0.1),
    /** How training data is split across peers: disjoint contiguous shards, or iid sampling of the whole. */
    sharding: z.enum(['contiguous', 'iid']).default('contiguous'),
    seed: z.number().int().nonnegative().default(0),
  })
  .strict()
  .default({ corpus: 'moby-dick', tokenizer: 'byte', heldOutFraction: 0.1, sharding: 'contiguous', seed: 0 });

export const OptimizerSchema = z
  .object({
    kind: z.enum(['adamw', 'sgd']).default('adamw'),
    lr: z.number().positive().lt(10).default(1e-3),
    beta1: z.number().gte(0).lt(1).default(0.9),
    beta2: z.number().gte(0).lt(1).default(0.999),
    eps: z.number().positive().default(1e-8),
    weightDecay: z.number().gte(0).default(0.0),
    momentum: z.number().gte(0).lt(1).default(0),
    /** Clip the global gradient norm (0 = off). */
    gradClip: z.number().gte(0).default(1.0),
  })
  .strict()
  .default({ kind: 'adamw', lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, momentum: 0, gradClip: 1 });

export const ScheduleSchema = z
  .object({
    kind: z.enum(['constant', 'cosine', 'linear']).default('cosine'),
    warmupSteps: z.number().int().nonnegative().default(20),
    /** Final lr as a fraction of the peak (cosine / linear). */
    minLrRatio: z.number().gte(0).lte(1).default(0.1),
  })
  .strict()
  .default({ kind: 'cosine', warmupSteps: 20, minLrRatio: 0.1 });

export const BatchSchema = z
  .object({
    /** Sequences per peer per local step. */
    perPeer: posInt.default(8),
    /** Micro-batches accumulated per local step. */
    gradAccumulation: posInt.default(1),
  })
  .strict()
  .default({ perPeer: 8, gradAccumulation: 1 });

export const AlgorithmSchema = z
  .object({
    name: z.enum(['allreduce', 'dpsgd', 'choco', 'adpsgd']).default('choco'),
    /** CHOCO-SGD consensus step size γ ∈ (0, 1]; only for choco. */
    gamma: unit.optional(),
    /** AD-PSGD staleness bound (averagings); only for adpsgd. */
    maxStaleness: z.number().int().nonnegative().optional(),
    /**
     * AD-PSGD only: exchange in the background while the next local step computes (Lian et al.
     * 2018, §4: the gradient and the averaging run in parallel; at most one exchange in flight).
     * Default true; false waits for each exchange before the next step.
     */
    overlap: z.boolean().optional(),
    /** How long a round waits for a neighbour before proceeding without it. */
    timeoutMs: posInt.default(5000),
  })
  .strict()
  .default({ name: 'choco', timeoutMs: 5000 });

export const TopologySchema = z
  .object({
    kind: z.enum(['ring', 'exponential', 'random-regular', 'full']).default('exponential'),
    /** random-regular only: even degree >= 2. */
    degree: z.number().int().min(2).optional(),
    seed: z.number().int().nonnegative().default(0),
  })
  .strict()
  .default({ kind: 'exponential', seed: 0 });

export const CodecSchema = z
  .object({
    name: z.enum(['none', 'fp16', 'int8', 'topk', 'sign', 'randomk']).default('int8'),
    /** topk / randomk: fraction of elements kept. */
    fraction: unit.optional(),
    /** int8: multiple of 4 up to 65536; sign: power of two up to 256. */
    blockSize: posInt.optional(),
    /** topk / sign outside CHOCO: error feedback (default on). */
    errorFeedback: z.boolean().optional(),
    /** Lossless raw-DEFLATE stage on every message, kept where it shrinks it (codecs/wire.ts). */
    deflate: z.boolean().default(false),
  })
  .strict()
  .default({ name: 'int8', deflate: false });

export const MixingSchema = z
  .object({
    /** Local steps between gossip rounds (1 = gossip after every step). */
    everySteps: posInt.default(1),
    weights: z.enum(['metropolis-hastings']).default('metropolis-hastings'),
  })
  .strict()
  .default({ everySteps: 1, weights: 'metropolis-hastings' });

export const StoppingSchema = z
  .object({
    /** Local steps per peer. */
    maxSteps: posInt.default(200),
    /** Stop early once the held-out loss reaches this. */
    targetLoss: z.number().positive().optional(),
    /** Stop after this much wall time (minutes). */
    maxMinutes: z.number().positive().optional(),
    evalEverySteps: posInt.default(20),
  })
  .strict()
  .default({ maxSteps: 200, evalEverySteps: 20 });

export const PeersSchema = z
  .object({
    min: posInt.default(2),
    max: posInt.default(16),
  })
  .strict()
  .default({ min: 2, max: 16 });

export const JobSpecSchema = z
  .object({
    version: z.literal(JOB_SPEC_VERSION).default(JOB_SPEC_VERSION),
    name: z.string().min(1).max(120).default('demo: tiny GPT on Moby Dick'),
    model: ModelSchema,
    dataset: DatasetSchema,
    optimizer: OptimizerSchema,
    schedule: ScheduleSchema,
    batch: BatchSchema,
    algorithm: AlgorithmSchema,
    topology: TopologySchema,
    codec: CodecSchema,
    mixing: MixingSchema,
    stopping: StoppingSchema,
    peers: PeersSchema,
  })
  .strict()
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (s.model.nEmbd % s.model.nHead !== 0) issue(['model', 'nHead'], `must divide model.nEmbd (${s.model.nEmbd})`);
    if (s.dataset.tokenizer === 'gpt2' && s.model.vocabSize < 50257) issue(['model', 'vocabSize'], `must be at least 50257 for the gpt2 tokenizer, got ${s.model.vocabSize}`);
    if (s.dataset.tokenizer === 'byte' && s.model.vocabSize < 256) issue(['model', 'vocabSize'], `must be at least 256 for the byte tokenizer, got ${s.model.vocabSize}`);
    if (s.algorithm.gamma !== undefined && s.algorithm.name !== 'choco') issue(['algorithm', 'gamma'], `only applies to choco, not ${s.algorithm.name}`);
    if (s.algorithm.maxStaleness !== undefined && s.algorithm.name !== 'adpsgd') issue(['algorithm', 'maxStaleness'], `only applies to adpsgd, not ${s.algorithm.name}`);
    if (s.algorithm.overlap !== undefined && s.algorithm.name !== 'adpsgd') issue(['algorithm', 'overlap'], `only applies to adpsgd, not ${s.algorithm.name}`);
    if (s.algorithm.name === 'allreduce' && s.topology.kind !== 'full') issue(['topology', 'kind'], `allreduce averages over all peers: use 'full' (got '${s.topology.kind}')`);
    if (s.topology.degree !== undefined) {
      if (s.topology.kind !== 'random-regular') issue(['topology', 'degree'], `only applies to random-regular, not ${s.topology.kind}`);
      else if (s.topology.degree % 2 !== 0) issue(['topology', 'degree'], `must be even, got ${s.topology.degree}`);
    }
    const c = s.codec;
    if (c.fraction !== undefined && c.name !== 'topk' && c.name !== 'randomk') issue(['codec', 'fraction'], `only applies to topk and randomk, not ${c.name}`);
    if (c.blockSize !== undefined) {
      if (c.name === 'int8' && (c.blockSize % 4 !== 0 || c.blockSize > 65536)) issue(['codec', 'blockSize'], `int8 blocks must be a multiple of 4 up to 65536, got ${c.blockSize}`);
      else if (c.name === 'sign' && (c.blockSize > 256 || (c.blockSize & (c.blockSize - 1)) !== 0)) issue(['codec', 'blockSize'], `sign blocks must be a power of two up to 256, got ${c.blockSize}`);
      else if (c.name !== 'int8' && c.name !== 'sign') issue(['codec', 'blockSize'], `only applies to int8 and sign, not ${c.name}`);
    }
    if (c.errorFeedback !== undefined && c.name !== 'topk' && c.name !== 'sign') issue(['codec', 'errorFeedback'], `only applies to topk and sign, not ${c.name}`);
    if (s.schedule.warmupSteps >= s.stopping.maxSteps) issue(['schedule', 'warmupSteps'], `must be below stopping.maxSteps (${s.stopping.maxSteps})`);
    if (s.stopping.evalEverySteps > s.stopping.maxSteps) issue(['stopping', 'evalEverySteps'], `must not exceed stopping.maxSteps (${s.stopping.maxSteps})`);
    if (s.peers.min > s.peers.max) issue(['peers', 'min'], `must not exceed peers.max (${s.peers.max})`);
  });

/** A validated job spec with every default filled in. */
export type JobSpec = z.output<typeof JobSpecSchema>;
/** What a job author may write (every field optional). */
export type JobSpecInput = z.input<typeof JobSpecSchema>;
