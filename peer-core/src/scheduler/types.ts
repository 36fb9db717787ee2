/**
 * Public types of the heterogeneity-aware pipeline scheduler (re-exported by index.ts).
 * Units: latency in milliseconds and bandwidth in Gbit/s (DT-FM's units) at the input
 * boundary; seconds and bytes everywhere inside and in every output.
 */

/** One volunteer: measured speed and memory. */
export interface PeerSpec {
  id: string;
  /** Measured sustained training throughput, GFLOP/s. */
  gflops: number;
  /** Memory available for weights, optimizer state and activations, bytes. */
  memoryBytes: number;
  /** Free-form label (city, data-centre instance) used only for reports. */
  region?: string;
}

/** Directed links: entry [i][j] is the link from peer i to peer j (asymmetric allowed). */
export interface LinkSpec {
  latencyMs: number[][];
  bandwidthGbps: number[][];
}

export interface LayerSpec {
  /** Forward FLOPs of this layer for one sample (backward = backwardFlopsFactor × this). */
  forwardFlopsPerSample: number;
  /** Parameter bytes (also the size of this layer's gradient before compression). */
  paramBytes: number;
  /** Bytes of this layer's output activation for one sample (what crosses a stage boundary). */
  activationBytesPerSample: number;
  /** Bytes kept per sample per in-flight microbatch for the backward pass (default 2 × activationBytesPerSample, i.e. checkpointed). */
  storedActivationBytesPerSample?: number;
}

export interface ModelSpec {
  name?: string;
  layers: LayerSpec[];
  /** Backward FLOPs / forward FLOPs (default 2). */
  backwardFlopsFactor?: number;
  /** Resident bytes per parameter byte: weights + gradients + optimizer state (default 4: fp32 Adam). */
  stateBytesPerParamByte?: number;
}

export type PipelineSchedule = 'gpipe' | '1f1b';

export interface TrainingSpec {
  /** Global batch size (samples per iteration, over all data-parallel replicas). */
  batchSize: number;
  /** Samples per microbatch. */
  microbatchSize: number;
  /** Microbatch schedule (default '1f1b'). */
  schedule?: PipelineSchedule;
}

/** Compressed size / raw size of what crosses the network (1 = no compression). */
export interface CodecSpec {
  activationRatio: number;
  gradientRatio: number;
}

/** Everything the scheduler needs. */
export interface SchedulingProblem {
  peers: PeerSpec[];
  links: LinkSpec;
  model: ModelSpec;
  training: TrainingSpec;
  codec?: CodecSpec;
  /** Pipeline stages P. */
  stages: number;
  /** Data-parallel replicas D (default floor(peers / stages); the remaining peers are spares). */
  replicas?: number;
}

/** Predicted iteration time and its parts (seconds). total = compute + bubble + pipelineComm + dataParallelComm. */
export interface CostBreakdown {
  total: number;
  /** Busy time of the slowest stage of the critical replica: m × (forward + backward). */
  compute: number;
  /** Pipeline fill and drain on compute alone (what GPipe/1F1B leave idle with free links). */
  bubble: number;
  /** Extra pipeline time caused by activation and activation-gradient transfers. */
  pipelineComm: number;
  /** Time after the critical pipeline finishes until the last gradient all-reduce ends. */
  dataParallelComm: number;
}

export interface Plan {
  method: string;
  stages: number;
  replicas: number;
  /** Per stage: [firstLayer, endLayer) (end exclusive). */
  layerRanges: Array<[number, number]>;
  /** [stage][replica] = peer index into problem.peers. */
  assignment: number[][];
  /** The same as peer ids, for re-planning across peer-set changes. */
  assignmentIds: string[][];
  /** Peers left out (not enough for another replica, or better left out). */
  spare: number[];
  /** The microbatch schedule and size this plan was made for (the planner may choose them: see SearchOptions.scheduleSearch). */
  schedule: PipelineSchedule;
  microbatchSize: number;
  /** Microbatches per replica per iteration: the most of any replica (see microbatchesPerReplica). */
  microbatches: number;
  /**
   * Microbatches of each replica. Even (⌈batch / (D·microbatch)⌉ each) unless the planner split
   * the batch by replica speed; gradients are then averaged weighted by samples.
   */
  microbatchesPerReplica: number[];
  predicted: CostBreakdown;
  /** Number of (stage, replica) slots whose peer lacks memory for its stage. */
  memoryViolations: number;
}

export interface SearchOptions {
  /** Seed of every random choice (default DEFAULT_SEED). */
  seed?: number;
  /** GA population (default scales with the problem size). */
  population?: number;
  /** GA offspring generated (default scales with the problem size). */
  generations?: number;
  /** Local-search swap trials per offspring (default scales with the problem size). */
  localSearchTrials?: number;
  /**
   * How the final plan is chosen among the search's best few: 'simulation' (default) runs
   * each through the discrete-event simulator and keeps the fastest; 'prediction' keeps the
   * one with the lowest cost-model prediction.
   */
  rerank?: 'simulation' | 'prediction';
  /**
   * Also choose the microbatch schedule (GPipe or 1F1B) and the microbatch size (the
   * configured one, twice it, and its halvings down to 1) for the best plans found with the
   * configured ones (default true; false keeps training.schedule and training.microbatchSize).
   */
  scheduleSearch?: boolean;
  /** Split the batch unevenly across replicas so that slower replicas take fewer microbatches (default true). */
  unevenBatch?: boolean;
}

export interface ReplanOptions extends SearchOptions {
  /** Seconds charged per layer that must be downloaded by a peer (default: see constants). */
  moveCostPerLayer?: number;
}

export interface ReplanResult {
  plan: Plan;
  /** Layers that peers must fetch (a new peer fetches all of its layers). */
  layersMoved: number;
  /** Peers whose layer range changed. */
  peersMoved: number;
  /** The incremental candidate and the from-scratch candidate, for reports. */
  incremental: { plan: Plan; layersMoved: number; peersMoved: number };
  fromScratch: { plan: Plan; layersMoved: number; peersMoved: number };
}

export interface SimulateOptions {
  /** Relative jitter on every compute task and transfer (uniform in [1-j, 1+j]; default 0). */
  jitter?: number;
  seed?: number;
}

export interface SimulationResult {
  /** Simulated iteration time, seconds. */
  iterationSeconds: number;
  /** Per replica: when its last backward finished. */
  pipelineSeconds: number[];
  /** Per stage: when its gradient all-reduce finished. */
  allreduceEndSeconds: number[];
  events: number;
}
