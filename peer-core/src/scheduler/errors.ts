/** Named errors of the scheduler. */

/** The problem description is malformed (wrong sizes, non-positive speeds, ...). */
export class SchedulerInputError extends Error {
  override name = 'SchedulerInputError';
}

/** A scenario data file does not describe a valid scenario. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
}
