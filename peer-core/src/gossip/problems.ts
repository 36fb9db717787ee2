/**
 * Convex test problems for the gossip algorithms: N data shards with different distributions
 * (non-IID: shard-specific feature shifts and targets), a held-out set, stochastic minibatch
 * gradients, and the centralized optimum computed in closed form (least squares: normal
 * equations) or by Newton's method (L2-regularised logistic regression).
 * Not here: neural networks (the GPT engine lives in peer-core/src/model and train).
 */
import { mulberry32, randomNormal } from '../util/random.ts';

export interface ConvexProblem {
  name: string;
  dim: number;
  peers: number;
  /** Samples in each shard. */
  shardSize: number;
  /** Minibatch gradient of shard `peer`'s loss at x (samples drawn with `rand`). */
  grad(peer: number, x: Float32Array, batch: number, rand: () => number): Float32Array;
  /** Minibatch gradient over the union of all shards (for the single-peer baseline). */
  gradGlobal(x: Float32Array, batch: number, rand: () => number): Float32Array;
  /** Training objective over all shards (what the optimum minimises). */
  trainLoss(x: Float32Array): number;
  /** Loss on the held-out set. */
  heldOutLoss(x: Float32Array): number;
  /** Centralized optimum of the training objective. */
  optimum(): { x: Float64Array; trainLoss: number; heldOutLoss: number };
}

interface Data {
  A: Float64Array[]; // rows
  y: number[];
}

/** Solve (M) z = r by Gaussian elimination with partial pivoting (M is d×d, row-major). */
export function solveLinear(M: Float64Array, r: Float64Array, d: number): Float64Array {
  const a = M.slice();
  const b = r.slice();
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let i = c + 1; i < d; i++) if (Math.abs(a[i * d + c]) > Math.abs(a[p * d + c])) p = i;
    if (p !== c) {
      for (let k = 0; k < d; k++) [a[c * d + k], a[p * d + k]] = [a[p * d + k], a[c * d + k]];
      [b[c], b[p]] = [b[p], b[c]];
    }
    for (let i = c + 1; i < d; i++) {
      const f = a[i * d + c] / a[c * d + c];
      if (f === 0) continue;
      for (let k = c; k < d; k++) a[i * d + k] -= f * a[c * d + k];
      b[i] -= f * b[c];
    }
  }
  const z = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < d; k++) s -= a[i * d + k] * z[k];
    z[i] = s / a[i * d + i];
  }
  return z;
}

interface Model {
  /** loss of one sample and its gradient scale dℓ/d(aᵀx) */
  sample(margin: number, y: number): { loss: number; dz: number };
  /** second derivative of the loss wrt the margin (for Newton) */
  curvature(margin: number): number;
  reg: number;
}

function makeProblem(name: string, shards: Data[], heldOut: Data, dim: number, model: Model, optimumFn: (p: ConvexProblem) => Float64Array): ConvexProblem {
  const N = shards.length;
  const m = shards[0].A.length;
  const dot = (row: Float64Array, x: ArrayLike<number>) => {
    let s = 0;
    for (let k = 0; k < dim; k++) s += row[k] * x[k];
    return s;
  };
  const lossOn = (data: Data[], x: ArrayLike<number>) => {
    let s = 0;
    let cnt = 0;
    for (const dset of data)
      for (let i = 0; i < dset.A.length; i++) {
        s += model.sample(dot(dset.A[i], x), dset.y[i]).loss;
        cnt++;
      }
    let r = 0;
    for (let k = 0; k < dim; k++) r += x[k] * x[k];
    return s / cnt + 0.5 * model.reg * r;
  };
  const gradFrom = (pick: () => [Float64Array, number], x: Float32Array, batch: number) => {
    const g = new Float64Array(dim);
    for (let b = 0; b < batch; b++) {
      const [row, y] = pick();
      const dz = model.sample(dot(row, x), y).dz;
      for (let k = 0; k < dim; k++) g[k] += dz * row[k];
    }
    const out = new Float32Array(dim);
    for (let k = 0; k < dim; k++) out[k] = g[k] / batch + model.reg * x[k];
    return out;
  };
  let opt: { x: Float64Array; trainLoss: number; heldOutLoss: number } | undefined;
  const p: ConvexProblem = {
    name,
    dim,
    peers: N,
    shardSize: m,
    grad: (peer, x, batch, rand) =>
      gradFrom(
        () => {
          const i = Math.floor(rand() * m);
          return [shards[peer].A[i], shards[peer].y[i]];
        },
        x,
        batch,
      ),
    gradGlobal: (x, batch, rand) =>
      gradFrom(
        () => {
          const s = Math.floor(rand() * N);
          const i = Math.floor(rand() * m);
          return [shards[s].A[i], shards[s].y[i]];
        },
        x,
        batch,
      ),
    trainLoss: (x) => lossOn(shards, x),
    heldOutLoss: (x) => lossOn([heldOut], x),
    optimum: () => {
      if (!opt) {
        const x = optimumFn(p);
        opt = { x, trainLoss: lossOn(shards, x), heldOutLoss: lossOn([heldOut], x) };
      }
      return opt;
    },
  };
  return p;
}

/** Newton's method on the full training objective (exact in one step for least squares). */
function newtonOptimum(shards: Data[], dim: number, model: Model, iters: number): Float64Array {
  const x = new Float64Array(dim);
  const cnt = shards.reduce((s, d) => s + d.A.length, 0);
  for (let it = 0; it < iters; it++) {
    const H = new Float64Array(dim * dim);
    const g = new Float64Array(dim);
    for (const d of shards)
      for (let i = 0; i < d.A.length; i++) {
        const row = d.A[i];
        let z = 0;
        for (let k = 0; k < dim; k++) z += row[k] * x[k];
        const { dz } = model.sample(z, d.y[i]);
        const c = model.curvature(z);
        for (let a = 0; a < dim; a++) {
          g[a] += (dz * row[a]) / cnt;
          const ca = (c * row[a]) / cnt;
          for (let b = 0; b < dim; b++) H[a * dim + b] += ca * row[b];
        }
      }
    for (let a = 0; a < dim; a++) {
      g[a] += model.reg * x[a];
      H[a * dim + a] += model.reg;
    }
    const step = solveLinear(H, g, dim);
    let norm = 0;
    for (let a = 0; a < dim; a++) {
      x[a] -= step[a];
      norm += step[a] * step[a];
    }
    if (Math.sqrt(norm) < 1e-12) break;
  }
  return x;
}

export interface ProblemInit {
  peers?: number;
  dim?: number;
  /** Samples per shard. */
  shardSize?: number;
  heldOut?: number;
  /** How different the shards are (feature shift and target perturbation scale). Default 1. */
  heterogeneity?: number;
  seed?: number;
}

function shiftedRows(n: number, dim: number, shift: Float64Array, seed: number): Float64Array[] {
  const z = randomNormal(n * dim, seed);
  return Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(dim);
    for (let k = 0; k < dim; k++) row[k] = z[i * dim + k] + shift[k];
    return row;
  });
}

/** Distributed least squares: f_i(x) = (1/2m) Σ (a·x - b)^2 with shard-specific shifts and targets. */
export function leastSquaresProblem(init: ProblemInit = {}): ConvexProblem {
  const { peers = 8, dim = 20, shardSize = 200, heldOut = 800, heterogeneity = 1, seed = 1 } = init;
  const xTrue = Float64Array.from(randomNormal(dim, seed));
  const model: Model = { sample: (z, y) => ({ loss: 0.5 * (z - y) ** 2, dz: z - y }), curvature: () => 1, reg: 0 };
  const noise = mulberry32(seed + 99);
  const shifts: Float64Array[] = [];
  const gen = (n: number, shift: Float64Array, delta: Float64Array, s: number): Data => {
    const A = shiftedRows(n, dim, shift, s);
    const y = A.map((row) => row.reduce((acc, v, k) => acc + v * (xTrue[k] + delta[k]), 0) + 0.1 * (noise() * 2 - 1));
    return { A, y };
  };
  const shards: Data[] = [];
  const deltas: Float64Array[] = [];
  for (let i = 0; i < peers; i++) {
    const shift = Float64Array.from(randomNormal(dim, seed + 1000 + i, 0.5 * heterogeneity));
    const delta = Float64Array.from(randomNormal(dim, seed + 2000 + i, 0.3 * heterogeneity));
    shifts.push(shift);
    deltas.push(delta);
    shards.push(gen(shardSize, shift, delta, seed + 3000 + i));
  }
  // held-out: the same mixture of shard distributions
  const per = Math.ceil(heldOut / peers);
  const parts = shards.map((_, i) => gen(per, shifts[i], deltas[i], seed + 4000 + i));
  const ho: Data = { A: parts.flatMap((d) => d.A), y: parts.flatMap((d) => d.y) };
  return makeProblem('least-squares', shards, ho, dim, model, () => newtonOptimum(shards, dim, model, 2));
}

/** Distributed L2-regularised logistic regression with shard-specific feature shifts and label skew. */
export function logisticProblem(init: ProblemInit & { l2?: number } = {}): ConvexProblem {
  const { peers = 8, dim = 20, shardSize = 300, heldOut = 1200, heterogeneity = 1, seed = 1, l2 = 1e-3 } = init;
  const wTrue = Float64Array.from(randomNormal(dim, seed, 1));
  const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
  const softplus = (z: number) => (z > 30 ? z : z < -30 ? Math.exp(z) : Math.log1p(Math.exp(z)));
  const model: Model = {
    // y in {0, 1}: loss = softplus(z) - y z
    sample: (z, y) => ({ loss: softplus(z) - y * z, dz: sigmoid(z) - y }),
    curvature: (z) => {
      const s = sigmoid(z);
      return s * (1 - s);
    },
    reg: l2,
  };
  const rand = mulberry32(seed + 77);
  const gen = (n: number, shift: Float64Array, bias: number, s: number): Data => {
    const A = shiftedRows(n, dim, shift, s);
    const y = A.map((row) => (rand() < sigmoid(row.reduce((acc, v, k) => acc + v * wTrue[k], 0) / Math.sqrt(dim) * 3 + bias) ? 1 : 0));
    return { A, y };
  };
  // feature shifts with a norm that does not grow with dim (standardised features)
  const shifts = Array.from({ length: peers }, (_, i) => Float64Array.from(randomNormal(dim, seed + 1000 + i, heterogeneity * Math.sqrt(2 / dim))));
  const biases = Array.from({ length: peers }, (_, i) => heterogeneity * (2 * (i / Math.max(1, peers - 1)) - 1));
  const shards = shifts.map((sh, i) => gen(shardSize, sh, biases[i], seed + 3000 + i));
  const per = Math.ceil(heldOut / peers);
  const parts = shifts.map((sh, i) => gen(per, sh, biases[i], seed + 4000 + i));
  const ho: Data = { A: parts.flatMap((d) => d.A), y: parts.flatMap((d) => d.y) };
  return makeProblem('logistic', shards, ho, dim, model, () => newtonOptimum(shards, dim, model, 50));
}
