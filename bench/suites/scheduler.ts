/**
 * `npm run bench -- scheduler [--json FILE] [--browser false] [--scenarios a,b] [--repeats 2]`
 *
 * For each scenario in peer-core/src/scheduler/scenarios/ (the 64-peer ones; the 1000-peer
 * one is used for planning time and simulator scale): plans with ours, random, greedy and
 * DT-FM (network-only objective), predicts each plan's iteration time with the cost model and
 * simulates it event by event. Results:
 *  - speedup_vs_random_<s>, speedup_vs_dtfm_<s>: simulated iteration time of the baseline / ours;
 *    random = the mean over RANDOM_DRAWS seeded random assignments (seeds 1..RANDOM_DRAWS);
 *    the baselines run with the scenario's configured schedule and microbatch size, ours with
 *    the ones it chose (SearchOptions.scheduleSearch);
 *  - ablations: speedup_vs_dtfm_same_schedule_<s> and speedup_vs_random_same_schedule_<s>
 *    (the baseline run with ours' schedule and microbatch size: the placement and batch-split
 *    part of the gain), speedup_configured_schedule_vs_{dtfm,random}_<s> (ours restricted to
 *    the configured schedule);
 *  - iteration_<s>_<method>: simulated seconds, with the cost-model prediction as anchor value;
 *  - costmodel_error_<s>: worst |predicted - simulated| / simulated over all plans and random
 *    draws, in percent (3.6 means 3.6%);
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
import { buildScenario, dtfmPlan, greedyPlan, type Plan, planSchedule, problemForPlan, randomPlan, type ScenarioFile, type SchedulingProblem, simulatePlan } from '@swarmgrad/peer-core/scheduler';
import type { BenchResult, BenchSuite } from '../lib/types.ts';

type Row = Omit<BenchResult, 'suite' | 'env'>;
const scenarioDir = new URL('../../peer-core/src/scheduler/scenarios/', import.meta.url);
const loadFile = (f: string) => JSON.parse(readFileSync(new URL(f, scenarioDir), 'utf8')) as ScenarioFile;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The random baseline is the mean over this many seeded draws (seeds 1..RANDOM_DRAWS), for every scenario. */
const RANDOM_DRAWS = 20;

/** Simulated iteration time of RANDOM_DRAWS random plans: mean, min, max; `each` sees every draw. */
function randomDraws(problem: SchedulingProblem, each: (plan: Plan, simulated: number) => void): { mean: number; min: number; max: number } {
  const times: number[] = [];
  for (let seed = 1; seed <= RANDOM_DRAWS; seed++) {
    const plan = randomPlan(problem, seed);
    const t = simulatePlan(problem, plan).iterationSeconds;
    each(plan, t);
    times.push(t);
  }
  return { mean: times.reduce((a, b) => a + b, 0) / times.length, min: Math.min(...times), max: Math.max(...times) };
}

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
    table.push(['scenario', 'method', 'peers', 'D×P', 'schedule/mb [per replica]', 'predicted s', 'simulated s', 'error', 'compute', 'bubble', 'pp comm', 'dp comm', 'mem viol.', 'plan s'].join(' | '));
    for (const f of small) {
      const sc = buildScenario(loadFile(f));
      const timed = (fn: () => Plan) => {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const plan = fn();
        const c = process.cpuUsage(c0);
        return { plan, seconds: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
      };
      const runs = [timed(() => planSchedule(sc.problem)), timed(() => greedyPlan(sc.problem)), timed(() => dtfmPlan(sc.problem))];
      const ours = runs[0]!.plan;
      // Ablations: ours with the configured schedule and microbatch size; DT-FM re-planned for ours' schedule and microbatch size.
      const same = problemForPlan(sc.problem, ours);
      const extra = [timed(() => ({ ...planSchedule(sc.problem, { scheduleSearch: false }), method: 'ours-configured' })), timed(() => ({ ...dtfmPlan(same), method: 'dtfm-same-schedule' }))];
      const all = [...runs, ...extra];
      const sim = all.map((r) => simulatePlan(sc.problem, r.plan).iterationSeconds);
      let worstErr = 0;
      const row = (plan: Plan, simulated: number, planSeconds: string, show = true) => {
        const p = plan.predicted;
        const err = Math.abs(p.total - simulated) / simulated;
        worstErr = Math.max(worstErr, err);
        if (!show) return;
        const sched = `${plan.schedule}/${plan.microbatchSize}${new Set(plan.microbatchesPerReplica).size > 1 ? ` [${plan.microbatchesPerReplica.join(',')}]` : ''}`;
        table.push([sc.name, plan.method, sc.problem.peers.length, `${plan.replicas}×${plan.stages}`, sched, p.total.toFixed(2), simulated.toFixed(2), pct(err), p.compute.toFixed(2), p.bubble.toFixed(2), p.pipelineComm.toFixed(2), p.dataParallelComm.toFixed(2), plan.memoryViolations, planSeconds].join(' | '));
      };
      all.forEach((r, k) => {
        row(r.plan, sim[k]!, r.seconds.toFixed(2));
        out.push({ name: `iteration_${sc.name}_${r.plan.method}`, value: sim[k]!, unit: `s per iteration, simulated (${r.plan.schedule}, microbatch ${r.plan.microbatchSize}; lower is better)`, anchor: 'cost-model prediction', anchorValue: r.plan.predicted.total });
      });
      // Random assignment: the mean over RANDOM_DRAWS seeded draws, with the configured schedule and with ours'.
      let firstDraw = true;
      const rnd = randomDraws(sc.problem, (plan, simulated) => {
        row({ ...plan, method: 'random (seed 1 of the draws)' }, simulated, '-', firstDraw);
        firstDraw = false;
      });
      const rndSame = randomDraws(same, () => {});
      const [oursSim, , dtfm, oursConfigured, dtfmSame] = sim as [number, number, number, number, number];
      log(`${sc.name}: ours ${oursSim.toFixed(2)} s (${ours.schedule}/${ours.microbatchSize}), ours with the configured schedule ${oursConfigured.toFixed(2)} s, random ${rnd.mean.toFixed(2)} s (mean of ${RANDOM_DRAWS}), greedy ${sim[1]!.toFixed(2)} s, DT-FM ${dtfm.toFixed(2)} s, DT-FM with ours' schedule ${dtfmSame.toFixed(2)} s (simulated)`);
      const rndUnit = (r: { min: number; max: number }) => `mean of ${RANDOM_DRAWS} seeded draws (seeds 1..${RANDOM_DRAWS}; min ${r.min.toFixed(2)} s, max ${r.max.toFixed(2)} s)`;
      out.push({ name: `iteration_${sc.name}_random`, value: rnd.mean, unit: `s per iteration, simulated, random assignment, uniform layers, configured schedule: ${rndUnit(rnd)}` });
      out.push({ name: `speedup_vs_random_${sc.name}`, value: rnd.mean / oursSim, unit: `x (random / ours, simulated iteration time; random = ${rndUnit(rnd)}, configured schedule; higher is better)`, anchor: 'random assignment, uniform layers', anchorValue: rnd.mean, ratio: rnd.mean / oursSim });
      out.push({ name: `speedup_vs_random_same_schedule_${sc.name}`, value: rndSame.mean / oursSim, unit: `x (random run with ours' schedule ${ours.schedule}/${ours.microbatchSize} / ours; ${rndUnit(rndSame)}; higher is better)`, anchor: "random assignment, ours' schedule", anchorValue: rndSame.mean, ratio: rndSame.mean / oursSim });
      out.push({ name: `speedup_vs_dtfm_${sc.name}`, value: dtfm / oursSim, unit: 'x (DT-FM / ours, simulated iteration time, DT-FM with the configured schedule; higher is better)', anchor: 'DT-FM network-only GA, uniform layers', anchorValue: dtfm, ratio: dtfm / oursSim });
      out.push({ name: `speedup_vs_dtfm_same_schedule_${sc.name}`, value: dtfmSame / oursSim, unit: `x (DT-FM planned for ours' schedule ${ours.schedule}/${ours.microbatchSize} / ours: the placement and batch-split part of the gain; higher is better)`, anchor: "DT-FM network-only GA, ours' schedule", anchorValue: dtfmSame, ratio: dtfmSame / oursSim });
      out.push({ name: `speedup_configured_schedule_vs_dtfm_${sc.name}`, value: dtfm / oursConfigured, unit: 'x (DT-FM / ours, both with the configured schedule and microbatch size; higher is better)', anchor: 'DT-FM network-only GA, uniform layers', anchorValue: dtfm, ratio: dtfm / oursConfigured });
      out.push({ name: `speedup_configured_schedule_vs_random_${sc.name}`, value: rnd.mean / oursConfigured, unit: `x (random / ours, both with the configured schedule and microbatch size; ${rndUnit(rnd)}; higher is better)`, anchor: 'random assignment, uniform layers', anchorValue: rnd.mean, ratio: rnd.mean / oursConfigured });
      out.push({ name: `costmodel_error_${sc.name}`, value: 100 * worstErr, unit: `percent: worst |predicted - simulated| / simulated × 100 over the ${all.length} plans and ${RANDOM_DRAWS} random draws (target < 15; lower is better)` });
      out.push({ name: `plan_seconds_${sc.name}`, value: runs[0]!.seconds, unit: 's wall, our planner in Node (lower is better)', anchor: 'DT-FM GA, same process', anchorValue: runs[2]!.seconds, ratio: runs[2]!.seconds / runs[0]!.seconds });
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
      const rndSim = randomDraws(sc.problem, () => {}).mean;
      const err = Math.abs(plan.predicted.total - sim.iterationSeconds) / sim.iterationSeconds;
      table.push([sc.name, 'ours', sc.problem.peers.length, `${plan.replicas}×${plan.stages}`, `${plan.schedule}/${plan.microbatchSize}`, plan.predicted.total.toFixed(2), sim.iterationSeconds.toFixed(2), pct(err), plan.predicted.compute.toFixed(2), plan.predicted.bubble.toFixed(2), plan.predicted.pipelineComm.toFixed(2), plan.predicted.dataParallelComm.toFixed(2), plan.memoryViolations, planNode.toFixed(2)].join(' | '));
      log(`${sc.name}: planned in ${planNode.toFixed(1)} s (Node), simulated ${sim.events} events in ${simSeconds.toFixed(2)} s`);
      out.push({ name: `simulate_seconds_${sc.problem.peers.length}`, value: simSeconds, unit: `s to simulate one iteration of ${sc.problem.peers.length} peers (${sim.events} events, Node)` });
      out.push({ name: `costmodel_error_${sc.name}`, value: 100 * err, unit: 'percent: |predicted - simulated| / simulated × 100, our plan (target < 15; lower is better)' });
      out.push({ name: `speedup_vs_random_${sc.name}`, value: rndSim / sim.iterationSeconds, unit: `x (random / ours, simulated iteration time; random = mean of ${RANDOM_DRAWS} seeded draws, configured schedule; higher is better)`, anchor: 'random assignment, uniform layers', anchorValue: rndSim, ratio: rndSim / sim.iterationSeconds });
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
