/** Named errors of the peer runtime. */

/** The runtime was used in a state that does not allow it (e.g. start() twice). */
export class RuntimeStateError extends Error {
  override name = 'RuntimeStateError';
}

/** The job cannot run here (unknown corpus, vocabulary too small for the tokenizer, ...). */
export class RuntimeConfigError extends Error {
  override name = 'RuntimeConfigError';
}

/** A job announcement that fails its shape, signature or spec checks. */
export class JobAnnouncementError extends Error {
  override name = 'JobAnnouncementError';
}

/** The local compute (model, optimizer, backend; in a worker or inline) failed or was misused. */
export class ComputeError extends Error {
  override name = 'ComputeError';
}
