/**
 * Browser side of `npm run bench -- scheduler`: hands a scenario to one module Web Worker
 * (plan.worker.ts), which times our planner there and answers with the timing.
 */
import type { WorkerReply } from './plan.worker.ts';

const worker = new Worker(new URL('./plan.worker.ts', import.meta.url), { type: 'module' });
let nextId = 0;
const pending = new Map<number, (r: WorkerReply) => void>();
worker.onmessage = (e: MessageEvent<WorkerReply>) => {
  pending.get(e.data.id)?.(e.data);
  pending.delete(e.data.id);
};

const api = {
  /** Plan `scenario` (a parsed scenarios/*.json) in the worker; seconds of planning and the plan's shape. */
  plan(scenario: unknown): Promise<WorkerReply> {
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      worker.postMessage({ id, scenario });
    });
  },
};

declare global {
  interface Window {
    schedulerBench: typeof api;
  }
}
window.schedulerBench = api;
