/** Web Worker: builds a scenario and times one call of our planner inside the worker. */
import { buildScenario, planSchedule, type ScenarioFile } from '@swarmgrad/peer-core/scheduler';

export interface WorkerReply {
  id: number;
  ok: boolean;
  error?: string;
  peers?: number;
  seconds?: number;
  predicted?: number;
  replicas?: number;
  stages?: number;
}

/** The worker global scope, typed without the WebWorker lib (the repo compiles against DOM). */
const scope = self as unknown as { onmessage: ((e: MessageEvent<{ id: number; scenario: ScenarioFile }>) => void) | null; postMessage(msg: WorkerReply): void };

scope.onmessage = (e) => {
  const { id, scenario } = e.data;
  try {
    const sc = buildScenario(scenario);
    const t0 = performance.now();
    const plan = planSchedule(sc.problem);
    const seconds = (performance.now() - t0) / 1000;
    const reply: WorkerReply = { id, ok: true, peers: sc.problem.peers.length, seconds, predicted: plan.predicted.total, replicas: plan.replicas, stages: plan.stages };
    scope.postMessage(reply);
  } catch (err) {
    scope.postMessage({ id, ok: false, error: String(err) });
  }
};
