/**
 * `npm run bench -- scheduler [--json FILE] [--browser false] [--scenarios a,b] [--repeats 2]`
 *
 * For each scenario in peer-core/src/scheduler/scenarios/ (the 64-peer ones; the 1000-peer
 * one is used for planning time and simulator scale): plans with ours, random, greedy and
 * DT-FM (network-only objective), predicts each plan's iteration time with the cost model and
 * simulates it event by event. Results:
 *  - speedup_vs_random_<s>, speedup_vs_dtfm_<s>: simulated iteration time of the baseline / ours;
 *  - iteration_<s>_<method>: simulated seconds, with the cost-model prediction as anchor value;
 *  - costmodel_error_<s>: worst |predicted - simulated| / simulated over the four plans, %;
 *  - plan_seconds_<s>: our planner's run time in Node (same process);
 *  - plan_seconds_64 (slowest of the 64-peer scenarios) and plan_seconds_1000: our planner's
 *    wall-clock run time inside one Web Worker of headless Chromium (Node if --browser false;
 *    the unit says which); plan_cpu_seconds_64/_1000: its CPU time in Node (one thread), which
 *    a shared, loaded machine does not inflate (env.loadavg records the load);
 *  - simulate_seconds_1000: simulator run time for the 1000-peer plan.
 * Also logs a readable per-scenario table of predicted / simulated times and breakdowns.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openPage, servePages } from '@swarmgrad/peer-core/harness';
import { buildScenario, dtfmPlan, greedyPlan, type Plan, planSchedule, randomPlan, type ScenarioFile, simulatePlan } from '@swarmgrad/peer-core/scheduler';
import type { BenchResult, BenchSuite } from '../lib/types.ts';

type Row = Omit<BenchResult, 'suite' | 'env'>;
const scenarioDir = new URL('../../peer-core/src/scheduler/scenarios/', import.meta.url);
const loadFile = (f: string) => JSON.parse(readFileSync(new URL(f, scenarioDir), 'utf8')) as ScenarioFile;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Wall-clock planning time of each scenario in one Web Worker: the fastest of `repeats[k]` runs. */
async function timeInWorker(files: ScenarioFile[], repeats: number[], log: (m: string) => void): Promise<{ device: string; seconds: number[] }> {
  const server = await servePages(fileURLToPath(new URL('../scheduler/', import.meta.url)));
  const browser = await launchBrowser();
  try {
    const { page, problems } = await openPage(browser, server.url);
    await page.waitForFunction(() => 'schedulerBench' in window, null, { timeout: 120_000 });
    const seconds: number[] = [];
    for (const [k, file] of files.entries()) {
      let best = Number.POSITIVE_INFINITY;
      for (let rep = 0; rep < repeats[k]!; rep++) {
        const r = await page.evaluate((sc) => window.schedulerBench.plan(sc), file as unknown);
        if (!r.ok) throw new Error(`worker failed on ${file.name}: ${r.error}`);
        log(`worker: planned ${file.name} (${r.peers} peers, ${r.replicas}×${r.stages}) in ${r.seconds!.toFixed(2)} s`);
        best = Math.min(best, r.seconds!);
      }
      seconds.push(best);
    }
    if (problems.errors.length) throw new Error(`page errors: ${problems.errors.join('; ')}`);
    return { device: `chromium ${browser.version()}, one Web Worker`, seconds };
  } finally {
    await browser.close();
    await server.close();
  }
}

const suite: BenchSuite = {
  name: 'scheduler',
  description: 'heterogeneity-aware scheduler: simulated iteration time vs random / greedy / DT-FM, cost-model error, planning time',
  async run({ options, env, log }) {
    const files = readdirSync(scenarioDir).filter((f) => f.endsWith('.json')).sort();
    const wanted = options.scenarios?.split(',');
    const small = files.filter((f) => !f.startsWith('scale_') && (!wanted || wanted.includes(f.slice(0, -5))));
    const large = files.filter((f) => f.startsWith('scale_'));
    const out: Row[] = [];
    const cpu64: number[] = [];
    // The machine may be shared: record the load so wall-clock planning times can be read.
    env.loadavg = loadavg().map((x) => +x.toFixed(1));
    const table: string[] = [];
    table.push(['scenario', 'method', 'peers', 'D×P', 'predicted s', 'simulated s', 'error', 'compute', 'bubble', 'pp comm', 'dp comm', 'mem viol.', 'plan s'].join(' | '));
    for (const f of small) {
      const sc = buildScenario(loadFile(f));
      const timed = (fn: () => Plan) => {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const plan = fn();
        const c = process.cpuUsage(c0);
        return { plan, seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
      };
      const runs = [timed(() => planSchedule(sc.problem)), timed(() => randomPlan(sc.problem)), timed(() => greedyPlan(sc.problem)), timed(() => dtfmPlan(sc.problem))];
      const sim = runs.map((r) => simulatePlan(sc.problem, r.plan).iterationSeconds);
      let worstErr = 0;
      runs.forEach((r, k) => {
        const p = r.plan.predicted;
        const err = Math.abs(p.total - sim[k]!) / sim[k]!;
        worstErr = Math.max(worstErr, err);
        table.push(
          [sc.name, r.plan.method, sc.problem.peers.length, `${r.plan.replicas}×${r.plan.stages}`, p.total.toFixed(2), sim[k]!.toFixed(2), pct(err), p.compute.toFixed(2), p.bubble.toFixed(2), p.pipelineComm.toFixed(2), p.dataParallelComm.toFixed(2), r.plan.memoryViolations, r.seconds.toFixed(2)].join(' | '),
        );
        out.push({ name: `iteration_${sc.name}_${r.plan.method}`, value: sim[k]!, unit: 's per iteration, simulated (lower is better)', anchor: 'cost-model prediction', anchorValue: p.total });
      });
      const [ours, random, , dtfm] = sim as [number, number, number, number];
      log(`${sc.name}: ours ${ours.toFixed(2)} s, random ${random.toFixed(2)} s, greedy ${sim[2]!.toFixed(2)} s, DT-FM ${dtfm.toFixed(2)} s (simulated)`);
      out.push({ name: `speedup_vs_random_${sc.name}`, value: random / ours, unit: 'x (random / ours, simulated iteration time; higher is better)', anchor: 'random assignment, uniform layers', anchorValue: random, ratio: random / ours });
      out.push({ name: `speedup_vs_dtfm_${sc.name}`, value: dtfm / ours, unit: 'x (DT-FM / ours, simulated iteration time; higher is better)', anchor: 'DT-FM network-only GA, uniform layers', anchorValue: dtfm, ratio: dtfm / ours });
      out.push({ name: `costmodel_error_${sc.name}`, value: 100 * worstErr, unit: '% |predicted - simulated| / simulated, worst of the 4 plans (lower is better)' });
      out.push({ name: `plan_seconds_${sc.name}`, value: runs[0]!.seconds, unit: 's wall, our planner in Node (lower is better)', anchor: 'DT-FM GA, same process', anchorValue: runs[3]!.seconds, ratio: runs[3]!.seconds / runs[0]!.seconds });
      cpu64.push(runs[0]!.cpu);
    }
    if (cpu64.length) out.push({ name: 'plan_cpu_seconds_64', value: Math.max(...cpu64), unit: 's CPU time of our planner in Node, one thread, slowest 64-peer scenario (lower is better)' });
    // Scale: 1000 simulated peers (planning in Node here; in the worker below).
    for (const f of large) {
      const sc = buildScenario(loadFile(f));
      const c0 = process.cpuUsage();
      let t0 = performance.now();
      const plan = planSchedule(sc.problem);
      const planNode = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      out.push({ name: `plan_cpu_seconds_${sc.problem.peers.length}`, value: (c.user + c.system) / 1e6, unit: 's CPU time of our planner in Node, one thread (lower is better)' });
      t0 = performance.now();
      const sim = simulatePlan(sc.problem, plan);
      const simSeconds = (performance.now() - t0) / 1000;
      const rnd = randomPlan(sc.problem);
      const rndSim = simulatePlan(sc.problem, rnd).iterationSeconds;
      const err = Math.abs(plan.predicted.total - sim.iterationSeconds) / sim.iterationSeconds;
      table.push([sc.name, 'ours', sc.problem.peers.length, `${plan.replicas}×${plan.stages}`, plan.predicted.total.toFixed(2), sim.iterationSeconds.toFixed(2), pct(err), plan.predicted.compute.toFixed(2), plan.predicted.bubble.toFixed(2), plan.predicted.pipelineComm.toFixed(2), plan.predicted.dataParallelComm.toFixed(2), plan.memoryViolations, planNode.toFixed(2)].join(' | '));
      log(`${sc.name}: planned in ${planNode.toFixed(1)} s (Node), simulated ${sim.events} events in ${simSeconds.toFixed(2)} s`);
      out.push({ name: `simulate_seconds_${sc.problem.peers.length}`, value: simSeconds, unit: `s to simulate one iteration of ${sc.problem.peers.length} peers (${sim.events} events, Node)` });
      out.push({ name: `costmodel_error_${sc.name}`, value: 100 * err, unit: '% |predicted - simulated| / simulated, our plan (lower is better)' });
      out.push({ name: `speedup_vs_random_${sc.name}`, value: rndSim / sim.iterationSeconds, unit: 'x (random / ours, simulated iteration time; higher is better)', anchor: 'random assignment, uniform layers', anchorValue: rndSim, ratio: rndSim / sim.iterationSeconds });
    }
    // Planning time in one browser Web Worker.
    const sixtyFour = small.map(loadFile);
    const thousand = large.map(loadFile);
    const useBrowser = options.browser !== 'false';
    let where = 'Node (main thread)';
    let s64: number[];
    let s1000: number[];
    if (useBrowser) {
      const repeats = Number(options.repeats ?? 2);
      const w = await timeInWorker([...sixtyFour, ...thousand], [...sixtyFour.map(() => repeats), ...thousand.map(() => 1)], log);
      where = w.device;
      env.device = w.device;
      s64 = w.seconds.slice(0, sixtyFour.length);
      s1000 = w.seconds.slice(sixtyFour.length);
    } else {
      const t = (file: ScenarioFile) => {
        const t0 = performance.now();
        planSchedule(buildScenario(file).problem);
        return (performance.now() - t0) / 1000;
      };
      s64 = sixtyFour.map(t);
      s1000 = thousand.map(t);
    }
    if (s64.length) out.push({ name: 'plan_seconds_64', value: Math.max(...s64), unit: `s wall, slowest 64-peer scenario (fastest of ${useBrowser ? (options.repeats ?? 2) : 1} runs), ${where} (target ≤ 2; lower is better)` });
    if (s1000.length) out.push({ name: 'plan_seconds_1000', value: Math.max(...s1000), unit: `s wall, 1000 peers, ${where} (target ≤ 30; lower is better)` });
    env.loadavgAfter = loadavg().map((x) => +x.toFixed(1));
    log(`\n${table.join('\n')}`);
    return out;
  },
};
export default suite;
