/** Named errors of the gossip layer. Nothing a neighbour sends may crash a peer: it becomes one of these. */

/** A neighbour's update decoded to NaN/Inf (or failed to decode); it is rejected and not mixed in. */
export class NonFiniteUpdateError extends Error {
  override name = 'NonFiniteUpdateError';
  constructor(
    readonly peer: string,
    readonly step: number,
    detail: string,
  ) {
    super(`update from ${peer} at step ${step} rejected: ${detail}`);
  }
}

/** A received frame could not be parsed (truncated header, unknown kind, bad codec payload). */
export class GossipFrameError extends Error {
  override name = 'GossipFrameError';
}

/** Bad topology request (unknown kind, degree out of range, self not a member). */
export class TopologyError extends Error {
  override name = 'TopologyError';
}

/** Bad options given to an algorithm or the simulator. */
export class GossipConfigError extends Error {
  override name = 'GossipConfigError';
}

/** The simulated clock has no timers left while work is still pending: a hang. */
export class SimDeadlockError extends Error {
  override name = 'SimDeadlockError';
}

/** A model pull from a neighbour failed (no answer before the timeout, or a bad payload). */
export class ModelPullError extends Error {
  override name = 'ModelPullError';
}
