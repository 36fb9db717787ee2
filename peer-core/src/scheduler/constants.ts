/** Defaults of the scheduler. */

export const DEFAULT_SEED = 2022;
export const DEFAULT_BACKWARD_FLOPS_FACTOR = 2;
export const DEFAULT_STATE_BYTES_PER_PARAM_BYTE = 4;
export const DEFAULT_STORED_ACTIVATION_FACTOR = 2;
export const DEFAULT_SCHEDULE = '1f1b' as const;
export const NO_COMPRESSION = { activationRatio: 1, gradientRatio: 1 } as const;

/** Score added per memory violation so that any feasible plan beats any infeasible one. */
export const MEMORY_PENALTY_SECONDS = 1e6;

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
export const MIN_GENERATIONS = 6;
export const MAX_GENERATIONS = 400;

/** Distinct best plans per shape that the simulator re-ranks at the end of a search. */
export const FINALISTS = 4;
