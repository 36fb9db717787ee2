/**
 * A read-only window into the app's live state for automated tests and debugging:
 * `window.swarmgrad.volunteer()` / `window.swarmgrad.host()` return snapshots of what the
 * page shows (real measured values, nothing extra).
 */
type Snapshot = () => unknown;

declare global {
  interface Window {
    swarmgrad?: Record<string, Snapshot>;
  }
}

export function exposeDebug(name: string, snapshot: Snapshot): void {
  if (typeof window === 'undefined') return;
  window.swarmgrad ??= {};
  window.swarmgrad[name] = snapshot;
}
