/** Shared helpers of the gossip tests: an in-memory swarm on a virtual clock. */
import { type Averager, createAverager, InMemoryNetwork, type InMemoryNetworkInit, SimClock } from '../../src/gossip/index.ts';
import type { AveragerOptions, GossipInit } from '../../src/gossip/index.ts';
import type { AlgorithmName } from '../../src/gossip/index.ts';
import { randomNormal } from '../../src/util/random.ts';

export function makeSwarm(n: number, netInit: Omit<InMemoryNetworkInit, 'clock'> = {}) {
  const clock = new SimClock();
  const net = new InMemoryNetwork({ clock, ...netInit });
  const ids = Array.from({ length: n }, (_, i) => `p${String(i).padStart(2, '0')}`);
  const transports = ids.map((id) => net.join(id));
  return { clock, net, ids, transports };
}

export function averagers(algo: AlgorithmName, swarm: ReturnType<typeof makeSwarm>, init: Omit<GossipInit, 'transport'> & AveragerOptions = {}): Averager[] {
  return swarm.transports.map((transport) => createAverager(algo, { transport, ...init }));
}

export function randomVectors(n: number, dim: number, seed: number): Float32Array[] {
  return Array.from({ length: n }, (_, i) => randomNormal(dim, seed + i));
}

export function mean(xs: Float32Array[]): Float64Array {
  const m = new Float64Array(xs[0].length);
  for (const x of xs) for (let k = 0; k < m.length; k++) m[k] += x[k] / xs.length;
  return m;
}

/** Σ_i ||x_i - x̄||² */
export function consensusDistance(xs: Float32Array[]): number {
  const m = mean(xs);
  let s = 0;
  for (const x of xs) for (let k = 0; k < m.length; k++) s += (x[k] - m[k]) ** 2;
  return s;
}

/** Run one synchronous round of every averager on its vector. */
export async function round(clock: SimClock, avgs: Averager[], xs: Float32Array[], step: number) {
  return clock.run(Promise.all(avgs.map((a, i) => a.mix(xs[i], step))));
}
