/**
 * Open-loop travelling salesman over stage groups (DT-FM's pipeline order): the Hamiltonian
 * path of least total cost, any start and end. Exact (Held-Karp) up to EXACT_TSP_MAX_STAGES
 * nodes; nearest neighbour from every start followed by 2-opt above that.
 */
import { EXACT_TSP_MAX_STAGES } from './constants.ts';

export interface TspPath {
  cost: number;
  order: number[];
}

function pathCost(c: Float64Array, k: number, order: number[]): number {
  let s = 0;
  for (let i = 0; i + 1 < order.length; i++) s += c[order[i]! * k + order[i + 1]!]!;
  return s;
}

/** Least-cost open path through all k nodes of the k×k cost matrix `c` (row-major). */
export function openLoopTsp(c: Float64Array, k: number): TspPath {
  if (k === 1) return { cost: 0, order: [0] };
  if (k <= EXACT_TSP_MAX_STAGES) return heldKarp(c, k);
  return twoOpt(c, k);
}

function heldKarp(c: Float64Array, k: number): TspPath {
  const full = 1 << k;
  const dp = new Float64Array(full * k).fill(Number.POSITIVE_INFINITY);
  const parent = new Int8Array(full * k).fill(-1);
  for (let v = 0; v < k; v++) dp[(1 << v) * k + v] = 0;
  for (let mask = 1; mask < full; mask++)
    for (let v = 0; v < k; v++) {
      const cur = dp[mask * k + v]!;
      if (!(mask & (1 << v)) || !Number.isFinite(cur)) continue;
      for (let u = 0; u < k; u++) {
        if (mask & (1 << u)) continue;
        const next = mask | (1 << u);
        const val = cur + c[v * k + u]!;
        if (val < dp[next * k + u]!) {
          dp[next * k + u] = val;
          parent[next * k + u] = v;
        }
      }
    }
  let best = Number.POSITIVE_INFINITY;
  let last = 0;
  for (let v = 0; v < k; v++)
    if (dp[(full - 1) * k + v]! < best) {
      best = dp[(full - 1) * k + v]!;
      last = v;
    }
  const order: number[] = [];
  let mask = full - 1;
  let v = last;
  while (v !== -1) {
    order.push(v);
    const p = parent[mask * k + v]!;
    mask &= ~(1 << v);
    v = p;
  }
  order.reverse();
  return { cost: best, order };
}

function twoOpt(c: Float64Array, k: number): TspPath {
  let bestOrder: number[] = [];
  let best = Number.POSITIVE_INFINITY;
  for (let start = 0; start < k; start++) {
    const used = new Uint8Array(k);
    const order = [start];
    used[start] = 1;
    for (let step = 1; step < k; step++) {
      const v = order[order.length - 1]!;
      let nxt = -1;
      for (let u = 0; u < k; u++) if (!used[u] && (nxt === -1 || c[v * k + u]! < c[v * k + nxt]!)) nxt = u;
      order.push(nxt);
      used[nxt] = 1;
    }
    let improved = true;
    let cost = pathCost(c, k, order);
    while (improved) {
      improved = false;
      for (let i = 0; i < k - 1; i++)
        for (let j = i + 1; j < k; j++) {
          const cand = order.slice(0, i).concat(order.slice(i, j + 1).reverse(), order.slice(j + 1));
          const cc = pathCost(c, k, cand);
          if (cc < cost - 1e-12) {
            cost = cc;
            order.splice(0, k, ...cand);
            improved = true;
          }
        }
    }
    if (cost < best) {
      best = cost;
      bestOrder = order;
    }
  }
  return { cost: best, order: bestOrder };
}
