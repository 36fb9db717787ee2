/**
 * Scenario data files (scenarios/*.json) → SchedulingProblem.
 * A scenario lists regions (groups of peers with one intra-region link), the links between
 * regions, the GPUs (one kind, or a mix shuffled over peers under a seed), a transformer
 * described by its shape, and the training settings. Pure: takes parsed JSON, returns data.
 */
import { mulberry32 } from '../util/random.ts';
import { ScenarioError } from './errors.ts';
import type { LayerSpec, ModelSpec, PeerSpec, SchedulingProblem, TrainingSpec } from './types.ts';

export interface RegionSpec {
  name: string;
  peers: number;
  /** Repeat this region `repeat` times (names get a suffix _0, _1, ...). */
  repeat?: number;
  intraLatencyMs?: number;
  intraBandwidthGbps?: number;
}

export interface TransformerShape {
  layers: number;
  hidden: number;
  seqLen: number;
  /** Bytes per parameter of the gradient that is communicated (2 = fp16). */
  bytesPerParam: number;
  /** Bytes per activation element (2 = fp16). */
  bytesPerActivation: number;
  stateBytesPerParamByte?: number;
}

export interface GpuKind {
  gflops: number;
  memoryGB: number;
  count?: number;
}

export interface ScenarioFile {
  name: string;
  description: string;
  source?: string;
  regions: RegionSpec[];
  intraRegion: { latencyMs: number; bandwidthGbps: number };
  /** Links between regions not listed in `interRegion`. */
  defaultInterRegion?: { latencyMs: number; bandwidthGbps: number };
  /** [regionA, regionB, latencyMs, bandwidthGbps], symmetric. */
  interRegion?: Array<[string, string, number, number]>;
  gpus: GpuKind[];
  /** Seed for shuffling a GPU mix over the peers (default: no shuffle). */
  gpuShuffleSeed?: number;
  model: TransformerShape;
  training: TrainingSpec;
  codec?: { activationRatio: number; gradientRatio: number };
  stages: number;
  replicas?: number;
  /**
   * DT-FM's per-case message sizes (config.py send_activation_size / send_gradient_size, in
   * 10^9 bytes): the activations of one replica's whole batch at a stage boundary, and one
   * uniform stage's gradient. When present they replace the shape's activation and parameter
   * bytes (FLOPs stay the transformer's).
   */
  dtfmSizes?: { activationGB: number; gradientGB: number };
}

export interface Scenario {
  name: string;
  description: string;
  problem: SchedulingProblem;
}

/** Layers of a GPT-style decoder block stack (attention + 4× MLP), per sample. */
export function transformerModel(shape: TransformerShape): ModelSpec {
  const { hidden: h, seqLen: s } = shape;
  const params = 12 * h * h;
  const layer: LayerSpec = {
    forwardFlopsPerSample: s * (2 * params + 4 * s * h),
    paramBytes: params * shape.bytesPerParam,
    activationBytesPerSample: s * h * shape.bytesPerActivation,
  };
  return {
    name: `transformer L${shape.layers} h${h} s${s}`,
    layers: Array.from({ length: shape.layers }, () => ({ ...layer })),
    stateBytesPerParamByte: shape.stateBytesPerParamByte,
  };
}

export function buildScenario(file: ScenarioFile): Scenario {
  if (!file || !Array.isArray(file.regions) || !Array.isArray(file.gpus)) throw new ScenarioError('scenario needs regions and gpus');
  const regionOf: string[] = [];
  const intra = new Map<string, { latencyMs: number; bandwidthGbps: number }>();
  for (const r of file.regions) {
    const reps = r.repeat ?? 1;
    for (let k = 0; k < reps; k++) {
      const name = reps > 1 ? `${r.name}_${k}` : r.name;
      intra.set(name, { latencyMs: r.intraLatencyMs ?? file.intraRegion.latencyMs, bandwidthGbps: r.intraBandwidthGbps ?? file.intraRegion.bandwidthGbps });
      for (let i = 0; i < r.peers; i++) regionOf.push(name);
    }
  }
  const n = regionOf.length;
  const inter = new Map<string, [number, number]>();
  for (const [a, b, l, bw] of file.interRegion ?? []) {
    inter.set(`${a}|${b}`, [l, bw]);
    inter.set(`${b}|${a}`, [l, bw]);
  }
  const latencyMs: number[][] = [];
  const bandwidthGbps: number[][] = [];
  for (let i = 0; i < n; i++) {
    const lrow: number[] = [];
    const brow: number[] = [];
    for (let j = 0; j < n; j++) {
      const a = regionOf[i]!;
      const b = regionOf[j]!;
      let link: [number, number];
      if (a === b) {
        const x = intra.get(a)!;
        link = [x.latencyMs, x.bandwidthGbps];
      } else {
        const x = inter.get(`${a}|${b}`) ?? (file.defaultInterRegion ? [file.defaultInterRegion.latencyMs, file.defaultInterRegion.bandwidthGbps] : undefined);
        if (!x) throw new ScenarioError(`${file.name}: no link between ${a} and ${b}`);
        link = x as [number, number];
      }
      lrow.push(i === j ? 0 : link[0]);
      brow.push(link[1]);
    }
    latencyMs.push(lrow);
    bandwidthGbps.push(brow);
  }
  const kinds: GpuKind[] = [];
  if (file.gpus.length === 1 && file.gpus[0]!.count === undefined) for (let i = 0; i < n; i++) kinds.push(file.gpus[0]!);
  else for (const g of file.gpus) for (let k = 0; k < (g.count ?? 0); k++) kinds.push(g);
  if (kinds.length !== n) throw new ScenarioError(`${file.name}: ${kinds.length} GPUs for ${n} peers`);
  if (file.gpuShuffleSeed !== undefined) {
    const rand = mulberry32(file.gpuShuffleSeed);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
    }
  }
  const model = transformerModel(file.model);
  if (file.dtfmSizes) {
    const samplesPerReplica = file.training.batchSize / (file.replicas ?? Math.floor(n / file.stages));
    const layersPerStage = file.model.layers / file.stages;
    for (const layer of model.layers) {
      layer.activationBytesPerSample = (file.dtfmSizes.activationGB * 1e9) / samplesPerReplica;
      layer.paramBytes = (file.dtfmSizes.gradientGB * 1e9) / layersPerStage;
    }
  }
  const peers: PeerSpec[] = kinds.map((g, i) => ({ id: `p${i}`, gflops: g.gflops, memoryBytes: g.memoryGB * 2 ** 30, region: regionOf[i] }));
  return {
    name: file.name,
    description: file.description,
    problem: {
      peers,
      links: { latencyMs, bandwidthGbps },
      model,
      training: file.training,
      codec: file.codec,
      stages: file.stages,
      replicas: file.replicas,
    },
  };
}
