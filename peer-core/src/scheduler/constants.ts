/** Defaults of the scheduler. */

export const DEFAULT_SEED = 2022;
export const DEFAULT_BACKWARD_FLOPS_FACTOR = 2;
export const DEFAULT_STATE_BYTES_PER_PARAM_BYTE = 4;
export const DEFAULT_STORED_ACTIVATION_FACTOR = 2;
export const DEFAULT_SCHEDULE = '1f1b' as const;
export const NO_COMPRESSION = { activationRatio: 1, gradientRatio: 1 } as const;

/** Score added per memory violation so that any feasible plan beats any infeasible one. */
export const MEMORY_PENALTY_SECONDS = 1e6;

/** Up to this many stages the decoder tries every pipeline order with the full cost model. */
export const EXACT_ORDER_MAX_STAGES = 3;

/** Held-Karp (exact open-loop TSP) up to this many stage groups; nearest neighbour + 2-opt above. */
export const EXACT_TSP_MAX_STAGES = 12;

/** Re-planning: iterations over which a one-off layer download is amortised. */
export const REPLAN_AMORTIZE_ITERATIONS = 50;

/**
 * Search effort: the GA and local search get a budget of cost-model evaluations that shrinks
 * with the problem size, so a 64-peer plan takes well under a second and a 1000-peer plan
 * stays within tens of seconds. Counts, not clocks, so plans are reproducible under a seed.
 */
export const SEARCH_WORK_UNITS = 2e7;
/**
 * Our planner runs its searches at this fraction of the default effort (its polish and
 * schedule search take the rest of the time); the DT-FM baseline keeps the full default.
 */
export const PLANNER_EFFORT_SCALE = 0.5;
export const MIN_GENERATIONS = 6;
/** Small instances need far fewer evaluations than the work budget allows. */
export const MAX_EVALUATIONS_PER_PEER = 250;
/** polishPlan scores every move with every layer split when there are at most this many splits. */
export const POLISH_EXACT_SPLITS = 64;
/** Up to this many peers every decoded plan is polished (polishPlan) inside the GA's fitness. */
export const POLISH_IN_DECODE_MAX_PEERS = 12;
export const MAX_GENERATIONS = 400;

/** Distinct best plans per shape that the simulator re-ranks at the end of a search. */
export const FINALISTS = 6;
/** Plans re-timed under another schedule or microbatch size that are polished and simulated (scheduleSearch). */
export const SCHEDULE_FINALISTS = 4;
/** The best plans (by prediction) that are re-timed under the other schedules and microbatch sizes. */
export const RETIME_SOURCES = 4;
/** ... or more of them while their re-timing work (evaluations × P·D²) stays within this. */
export const RETIME_WORK_UNITS = 5e7;
/**
 * The final re-ranking simulates plans in order of prediction while the estimated events
 * (4·P·D·m per plan) stay within this budget, and at least MIN_SIMULATED of them: all
 * finalists at 64 peers, the best few at 1000.
 */
export const SIMULATION_WORK_EVENTS = 4e5;
export const MIN_SIMULATED = 2;

/**
 * Layer splits tried per genome besides the uniform one: compute-balanced with each group's
 * gradient all-reduce capped at these multiples of the slowest all-reduce of the uniform split
 * (Infinity: no cap). Extra candidates only: the best-scoring split of each genome wins.
 */
export const ALLREDUCE_CAP_MULTIPLES: readonly number[] = [Number.POSITIVE_INFINITY, 1, 0.5];

/** Cost-model evaluations spent polishing the replica chains and layer boundaries of each finalist (at most). */
export const POLISH_MAX_EVALUATIONS = 1500;
/** ... and at most this much work (evaluations × P·(D+P)) per finalist. */
export const POLISH_WORK_UNITS = 1e7;
