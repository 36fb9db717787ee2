/**
 * `npm run bench -- <suite> [--json FILE] [--key value ...]`
 * Runs one suite from bench/suites/<suite>.ts, prints a table and optionally writes the JSON
 * array of results ({suite, name, value, unit, anchor?, anchorValue?, ratio?, env}).
 */
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, platform } from 'node:os';
import { dirname } from 'node:path';
import type { BenchResult, BenchSuite } from '../bench/lib/types.ts';

const suitesDir = new URL('../bench/suites/', import.meta.url);
const available = readdirSync(suitesDir).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();

const argv = process.argv.slice(2);
const suiteName = argv[0];
if (!suiteName || suiteName.startsWith('--')) {
  console.error(`usage: npm run bench -- <suite> [--json FILE]\nsuites: ${available.join(', ')}`);
  process.exit(2);
}
if (!available.includes(suiteName)) {
  console.error(`unknown suite '${suiteName}'; suites: ${available.join(', ')}`);
  process.exit(2);
}
const options: Record<string, string> = {};
for (let i = 1; i < argv.length; i++) {
  const a = argv[i]!;
  if (!a.startsWith('--')) continue;
  const next = argv[i + 1];
  if (next && !next.startsWith('--')) {
    options[a.slice(2)] = next;
    i++;
  } else options[a.slice(2)] = 'true';
}

const mod = (await import(new URL(`${suiteName}.ts`, suitesDir).href)) as { default: BenchSuite };
const suite = mod.default;
const env = { node: process.version, platform: platform(), cpus: cpus().length };
const t0 = performance.now();
const raw = await suite.run({ options, env, log: (m) => console.error(`[${suiteName}] ${m}`) });
const results: BenchResult[] = raw.map((r) => ({ suite: suiteName, ...r, env }));
// The results file first: nothing below can lose a run's results.
if (options.json) {
  mkdirSync(dirname(options.json), { recursive: true });
  writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`);
}

// A value that is not a finite number (NaN, or null after a suite's JSON round trip) is printed
// as it is ('NaN', 'null'), never formatted (null.toPrecision would throw and lose the results).
const fmt = (v: number | null | undefined) => (v === undefined ? '' : typeof v !== 'number' || !Number.isFinite(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4));
const fmtRatio = (v: number | null | undefined) => (v === undefined ? '' : typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(2)}x` : String(v));
const rows = results.map((r) => [r.name, fmt(r.value), r.unit, r.anchor ?? '', fmt(r.anchorValue), fmtRatio(r.ratio)]);
const header = ['name', 'value', 'unit', 'anchor', 'anchor value', 'ratio'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\n${suite.name}: ${suite.description}  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
if (options.json) console.log(`\nwrote ${results.length} results to ${options.json}`);
