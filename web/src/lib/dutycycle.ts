/**
 * The compute limit: the share of wall time a volunteer's device spends training. After a
 * step that took `busy` seconds the loop idles `busy × (1 − share) / share` seconds, so over
 * time busy / (busy + idle) = share. Pure; the training loops call it between steps.
 */
export const MIN_SHARE = 0.1;
export const MAX_SHARE = 1;

export function clampShare(share: number): number {
  if (!Number.isFinite(share)) return MAX_SHARE;
  return Math.min(MAX_SHARE, Math.max(MIN_SHARE, share));
}

/** Seconds to idle after a step of `busySeconds` to hold the duty cycle at `share`. */
export function idleAfter(busySeconds: number, share: number): number {
  const s = clampShare(share);
  if (!(busySeconds > 0)) return 0;
  return (busySeconds * (1 - s)) / s;
}

/** Measured duty cycle of a run: busy / (busy + idle). */
export class DutyMeter {
  busy = 0;
  idle = 0;
  add(busySeconds: number, idleSeconds: number): void {
    this.busy += busySeconds;
    this.idle += idleSeconds;
  }
  get share(): number {
    const t = this.busy + this.idle;
    return t > 0 ? this.busy / t : 0;
  }
}
