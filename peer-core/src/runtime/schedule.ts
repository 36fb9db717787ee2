/** The job's learning-rate schedule (shared by the runtime and its local compute). */
import type { JobSpec } from '../job/schema.ts';
import { warmupCosine } from '../train/optimizer.ts';

/** The lr at swarm step `step` (1-based) under the job's schedule. */
export function lrSchedule(spec: JobSpec): (step: number) => number {
  const peak = spec.optimizer.lr;
  const { kind, warmupSteps, minLrRatio } = spec.schedule;
  const total = spec.stopping.maxSteps;
  if (kind === 'cosine') return warmupCosine(peak, warmupSteps, total, peak * minLrRatio);
  return (step) => {
    if (step <= warmupSteps) return (peak * step) / Math.max(1, warmupSteps);
    if (kind === 'constant') return peak;
    const p = Math.min(1, (step - warmupSteps) / Math.max(1, total - warmupSteps));
    return peak * (1 - p * (1 - minLrRatio));
  };
}
