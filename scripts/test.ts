/**
 * `npm test` and its layers. Runs the Vitest projects in order (unit, browser, e2e), then
 * prints one closing line `tests: N passed, N failed, N skipped` over all layers.
 * Usage: tsx scripts/test.ts all|unit|browser|e2e [extra vitest args]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const LAYERS = ['unit', 'browser', 'e2e'] as const;
const [which = 'all', ...extra] = process.argv.slice(2);
const layers = which === 'all' ? [...LAYERS] : LAYERS.filter((l) => l === which);
if (!layers.length) {
  console.error(`unknown test layer '${which}'; use one of: all, ${LAYERS.join(', ')}`);
  process.exit(2);
}

mkdirSync('.test-results', { recursive: true });
let passed = 0;
let failed = 0;
let skipped = 0;
let exitCode = 0;
for (const layer of layers) {
  const out = `.test-results/${layer}.json`;
  rmSync(out, { force: true });
  console.log(`\n=== ${layer} tests ===`);
  const vitest = ['npx', 'vitest', 'run', '--project', layer, '--passWithNoTests', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extra];
  // e2e peers talk WebRTC: run them in the hermetic network namespace of test/netns/run.sh
  // (loopback + a TEST-NET veth with a route to nowhere), so no test traffic touches a real interface.
  const argv = layer === 'e2e' && process.platform === 'linux' ? ['test/netns/run.sh', ...vitest] : vitest;
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  let counted = false;
  try {
    const j = JSON.parse(readFileSync(out, 'utf8'));
    passed += j.numPassedTests;
    failed += j.numFailedTests;
    skipped += j.numPendingTests + j.numTodoTests;
    counted = true;
    // A suite that fails to load has no failed tests but still fails the run.
    if (j.numFailedTestSuites > 0 && j.numFailedTests === 0) failed += j.numFailedTestSuites;
  } catch {
    // No report: vitest itself crashed; the exit code below says so.
  }
  if (r.status !== 0) {
    exitCode = 1;
    if (!counted) failed += 1;
  }
}
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(exitCode || (failed ? 1 : 0));
