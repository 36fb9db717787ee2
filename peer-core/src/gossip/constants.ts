/** Gossip defaults. */

/** How long a synchronous round waits for a neighbour before proceeding without it (ms). */
export const DEFAULT_ROUND_TIMEOUT_MS = 5_000;
/** How long a wait for a neighbour's message goes on after the neighbour leaves the membership (ms). */
export const DEFAULT_LEAVE_GRACE_MS = 1_000;
/** CHOCO-SGD consensus step size γ (Koloskova et al. 2019 tune it per compressor; 0.5 is safe for int8). */
export const DEFAULT_CHOCO_GAMMA = 0.5;
/** AD-PSGD: a gradient computed on parameters more than this many averagings old is dropped. */
export const DEFAULT_MAX_STALENESS = 4;
/** AD-PSGD: how long an active peer waits for its partner's reply (ms). */
export const DEFAULT_ADPSGD_TIMEOUT_MS = 2_000;
/** Degree of the random-regular topology. */
export const DEFAULT_RANDOM_REGULAR_DEGREE = 4;
/** Default tensor name of the flat parameter vector. */
export const DEFAULT_TENSOR = 'params';
