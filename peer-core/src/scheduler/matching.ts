/**
 * Bottleneck bipartite matching between two stage groups (DT-FM's pipeline edge cost): the
 * perfect matching of group A's peers to group B's peers that minimises the slowest matched
 * link. Threshold search over the sorted distinct weights, each threshold checked with
 * augmenting paths (Kuhn's algorithm with a greedy start).
 */

export interface BottleneckMatch {
  /** The slowest matched link (seconds). */
  cost: number;
  /** match[i] = index into B matched to A[i]. */
  match: Int32Array;
}

function augment(w: Float64Array, D: number, tau: number, i: number, matchA: Int32Array, matchB: Int32Array, seen: Int32Array, stamp: number): boolean {
  for (let j = 0; j < D; j++) {
    if (w[i * D + j]! > tau || seen[j] === stamp) continue;
    seen[j] = stamp;
    if (matchB[j] === -1 || augment(w, D, tau, matchB[j]!, matchA, matchB, seen, stamp)) {
      matchA[i] = j;
      matchB[j] = i;
      return true;
    }
  }
  return false;
}

/** Perfect matching using only pairs with weight ≤ tau, or null. */
function matchUnder(w: Float64Array, D: number, tau: number): Int32Array | null {
  const matchA = new Int32Array(D).fill(-1);
  const matchB = new Int32Array(D).fill(-1);
  // Greedy start.
  for (let i = 0; i < D; i++)
    for (let j = 0; j < D; j++)
      if (matchB[j] === -1 && w[i * D + j]! <= tau) {
        matchA[i] = j;
        matchB[j] = i;
        break;
      }
  const seen = new Int32Array(D);
  let stamp = 0;
  for (let i = 0; i < D; i++) {
    if (matchA[i] !== -1) continue;
    stamp++;
    if (!augment(w, D, tau, i, matchA, matchB, seen, stamp)) return null;
  }
  return matchA;
}

/** Bottleneck perfect matching of A to B under the symmetric n×n weights `edge`. */
export function bottleneckMatching(edge: Float64Array, n: number, A: ArrayLike<number>, B: ArrayLike<number>): BottleneckMatch {
  const D = A.length;
  const w = new Float64Array(D * D);
  let lower = 0;
  const colMin = new Float64Array(D).fill(Number.POSITIVE_INFINITY);
  for (let i = 0; i < D; i++) {
    let rowMin = Number.POSITIVE_INFINITY;
    const base = A[i]! * n;
    for (let j = 0; j < D; j++) {
      const x = edge[base + B[j]!]!;
      w[i * D + j] = x;
      if (x < rowMin) rowMin = x;
      if (x < colMin[j]!) colMin[j] = x;
    }
    if (rowMin > lower) lower = rowMin;
  }
  for (let j = 0; j < D; j++) if (colMin[j]! > lower) lower = colMin[j]!;
  // Most structured networks are matched at the lower bound: try it first.
  const first = matchUnder(w, D, lower);
  if (first) return { cost: lower, match: first };
  // Binary search over the sorted weights above the lower bound (duplicates are harmless).
  const values = w.slice().sort();
  let lo = 0;
  while (values[lo]! <= lower) lo++;
  let hi = values.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (matchUnder(w, D, values[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  const cost = values[lo]!;
  const found = matchUnder(w, D, cost)!;
  return { cost, match: found };
}
