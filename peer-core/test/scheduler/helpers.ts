/** Random scheduling instances for the scheduler tests (seeded; the seed is printed on failure). */
import type { SchedulingProblem } from '../../src/scheduler/index.ts';
import { transformerModel } from '../../src/scheduler/index.ts';
import { mulberry32 } from '../../src/util/random.ts';

export interface RandomInstanceInit {
  peers: number;
  stages: number;
  replicas?: number;
  layers: number;
  clusters: number;
  seed: number;
  schedule?: 'gpipe' | '1f1b';
  /** Give this many peers a small memory. */
  smallMemoryPeers?: number;
  batchSize?: number;
  microbatchSize?: number;
}

/** Clustered network (fast inside a cluster, slow and asymmetric between), speeds 1×–8×. */
export function randomProblem(init: RandomInstanceInit): SchedulingProblem {
  const rand = mulberry32(init.seed);
  const n = init.peers;
  const cluster = Array.from({ length: n }, () => Math.floor(rand() * init.clusters));
  const latencyMs: number[][] = [];
  const bandwidthGbps: number[][] = [];
  for (let i = 0; i < n; i++) {
    latencyMs.push([]);
    bandwidthGbps.push([]);
    for (let j = 0; j < n; j++) {
      const same = cluster[i] === cluster[j];
      latencyMs[i]!.push(i === j ? 0 : same ? 1 + 4 * rand() : 20 + 150 * rand());
      bandwidthGbps[i]!.push(same ? 2 + 8 * rand() : 0.3 + 1.2 * rand());
    }
  }
  const model = transformerModel({ layers: init.layers, hidden: 1024, seqLen: 1024, bytesPerParam: 2, bytesPerActivation: 2, stateBytesPerParamByte: 8 });
  const perLayer = 8 * model.layers[0]!.paramBytes;
  const peers = Array.from({ length: n }, (_, i) => ({
    id: `peer-${i}`,
    gflops: 5000 * (1 + Math.floor(rand() * 8)),
    memoryBytes: i < (init.smallMemoryPeers ?? 0) ? 1.6 * perLayer : 64 * perLayer,
  }));
  return {
    peers,
    links: { latencyMs, bandwidthGbps },
    model,
    training: { batchSize: init.batchSize ?? 32, microbatchSize: init.microbatchSize ?? 2, schedule: init.schedule ?? '1f1b' },
    codec: { activationRatio: 0.5, gradientRatio: 0.25 },
    stages: init.stages,
    replicas: init.replicas,
  };
}
