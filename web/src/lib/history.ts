/**
 * Time series behind the host dashboard's charts, one point per reported training step,
 * kept as uPlot's aligned columns (x first; null where a metric was not measured at that
 * step, e.g. held-out loss every N steps). Pure.
 */
export interface MetricPoint {
  step: number;
  trainLoss?: number | null;
  heldoutLoss?: number | null;
  tokensPerSecond?: number | null;
  bytesUpPerSecond?: number | null;
  bytesDownPerSecond?: number | null;
  /** Raw bytes / bytes sent (higher = more compression; 1 = none). */
  compressionRatio?: number | null;
}

export const METRIC_KEYS = ['trainLoss', 'heldoutLoss', 'tokensPerSecond', 'bytesUpPerSecond', 'bytesDownPerSecond', 'compressionRatio'] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

export type Columns = { step: number[] } & Record<MetricKey, (number | null)[]>;

export function emptyColumns(): Columns {
  return { step: [], trainLoss: [], heldoutLoss: [], tokensPerSecond: [], bytesUpPerSecond: [], bytesDownPerSecond: [], compressionRatio: [] };
}

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Append a point (returns a new object so Svelte sees the change). A point for the step
 * already at the end is merged into it (e.g. held-out loss arriving after the train loss).
 * Keeps at most `max` points by dropping every other old point (history stays visible).
 */
export function appendPoint(cols: Columns, p: MetricPoint, max = 4000): Columns {
  const out: Columns = {
    step: cols.step.slice(),
    trainLoss: cols.trainLoss.slice(),
    heldoutLoss: cols.heldoutLoss.slice(),
    tokensPerSecond: cols.tokensPerSecond.slice(),
    bytesUpPerSecond: cols.bytesUpPerSecond.slice(),
    bytesDownPerSecond: cols.bytesDownPerSecond.slice(),
    compressionRatio: cols.compressionRatio.slice(),
  };
  const n = out.step.length;
  if (n > 0 && out.step[n - 1] === p.step) {
    for (const k of METRIC_KEYS) if (num(p[k]) !== null) out[k][n - 1] = num(p[k]);
    return out;
  }
  if (n > 0 && p.step < out.step[n - 1]!) return out; // out-of-order report: ignore
  out.step.push(p.step);
  for (const k of METRIC_KEYS) out[k].push(num(p[k]));
  if (out.step.length > max) {
    const len = out.step.length;
    const keep = (_: unknown, i: number) => i % 2 === 0 || i >= len - max / 2;
    out.step = out.step.filter(keep);
    for (const k of METRIC_KEYS) out[k] = out[k].filter(keep);
  }
  return out;
}

/** uPlot data for a chart of the given metrics. */
export function chartData(cols: Columns, keys: readonly MetricKey[]): (number | null)[][] {
  return [cols.step, ...keys.map((k) => cols[k])];
}
