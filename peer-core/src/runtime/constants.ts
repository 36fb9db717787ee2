/** Defaults of the peer runtime (training loop over the swarm). Every one can be overridden in its Init. */

/** Gossipsub topic of job announcements (signed envelopes, see jobs.ts). */
export const JOBS_TOPIC = 'swarmgrad/jobs/1';
/** Capability-record keys a training peer publishes in its heartbeat. */
export const CAP_JOB = 'job';
export const CAP_JOB_STATE = 'jobState';
/** How many times this peer's job state has changed (orders heartbeat states and job-state messages). */
export const CAP_JOB_STATE_SEQ = 'jobStateSeq';

export const RUNTIME_DEFAULTS = {
  /** How long a fresh job waits for `spec.peers.min` peers before training anyway (ms). */
  startWaitMs: 30_000,
  /** How long a joining peer waits for a neighbour's model before giving up on it (ms). */
  pullTimeoutMs: 15_000,
  /** A tensor send that has not completed after this long is abandoned (ms). */
  sendTimeoutMs: 20_000,
  /** How often the swarm transport re-reads the job roster from heartbeats (ms). */
  rosterPollMs: 250,
  /** Held-out batches per evaluation (each `batch.perPeer` windows). */
  evalBatches: 4,
  /** Share of wall time spent computing (1 = no limit). */
  computeLimit: 1,
} as const;
