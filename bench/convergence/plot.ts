/**
 * Minimal hand-written SVG line charts for benchmark curves (no plotting dependency):
 * linear or log10 x axis, "nice" ticks, one polyline per series, legend on the right.
 */

export interface Series {
  name: string;
  points: Array<[number, number]>;
  /** SVG stroke-dasharray, e.g. '6 4' (solid when absent). */
  dash?: string;
  /** Stroke color (default: from the palette by index). */
  color?: string;
  width?: number;
}

export interface ChartInit {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  width?: number;
  height?: number;
  /** Clip y to this range (values outside are drawn at the edge). */
  yMax?: number;
  yMin?: number;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#000000'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12 * step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(0).replace('e+', 'e');
  return Number(v.toPrecision(4)).toString();
}

export function lineChart(c: ChartInit): string {
  const W = c.width ?? 900;
  const H = c.height ?? 520;
  const m = { l: 70, r: 260, t: 40, b: 55 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const tx = (x: number) => (c.logX ? Math.log10(Math.max(x, 1e-300)) : x);
  const pts = c.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(y) && (!c.logX || x > 0));
  let x0 = Math.min(...pts.map(([x]) => tx(x)));
  let x1 = Math.max(...pts.map(([x]) => tx(x)));
  let y0 = c.yMin ?? Math.min(...pts.map(([, y]) => y));
  let y1 = c.yMax ?? Math.max(...pts.map(([, y]) => y));
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) y1 = y0 + 1;
  const padY = (y1 - y0) * 0.04;
  y0 -= padY;
  y1 += padY;
  if (c.logX) {
    x0 = Math.floor(x0);
    x1 = Math.ceil(x1);
  }
  const sx = (x: number) => m.l + ((tx(x) - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.t + (1 - (Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12" role="img">`);
  out.push(`<title>${esc(c.title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(c.title)}</text>`);
  const xt = c.logX ? Array.from({ length: x1 - x0 + 1 }, (_, i) => 10 ** (x0 + i)) : niceTicks(x0, x1);
  for (const v of xt) {
    const X = sx(v);
    out.push(`<line x1="${X.toFixed(1)}" y1="${m.t}" x2="${X.toFixed(1)}" y2="${m.t + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${X.toFixed(1)}" y="${m.t + ph + 18}" text-anchor="middle">${fmt(v)}</text>`);
  }
  for (const v of niceTicks(y0, y1)) {
    const Y = sy(v);
    out.push(`<line x1="${m.l}" y1="${Y.toFixed(1)}" x2="${m.l + pw}" y2="${Y.toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.l - 8}" y="${(Y + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  c.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    const sw = s.width ?? 1.6;
    const p = s.points.filter(([x, y]) => Number.isFinite(y) && (!c.logX || x > 0)).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    if (p.length) out.push(`<polyline fill="none" stroke="${color}" stroke-width="${sw}"${dash} points="${p.join(' ')}"/>`);
    const ly = m.t + 8 + i * 18;
    out.push(`<line x1="${m.l + pw + 14}" y1="${ly}" x2="${m.l + pw + 40}" y2="${ly}" stroke="${color}" stroke-width="${sw + 0.4}"${dash}/>`);
    out.push(`<text x="${m.l + pw + 46}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
