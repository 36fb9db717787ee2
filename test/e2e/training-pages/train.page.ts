/**
 * The e2e training peer page: a SwarmNode plus a PeerRuntime (wasm backend) driven through
 * `window.swarmgradPeer` (the launchSwarm page API: start/info/stop, plus train/trainStatus).
 * The job comes from the swarm: the page waits for the signed announcement on gossipsub or from
 * the relay's /api/jobs, verifies it, and trains it. The model and optimizer run in a Web Worker
 * (WorkerCompute; the page is served with harness COMPUTE_WORKER) unless `compute: 'inline'`,
 * so the page's main thread, which holds the WebRTC links, stays free while a step computes. Parameter snapshots at chosen steps let the
 * Node test measure how far the replicas are apart.
 */
import type { SwarmPeerStartOptions } from '../../../peer-core/src/harness/swarm.ts';
import { SwarmNode, type SwarmNodeInit } from '../../../peer-core/src/net/index.ts';
import { createWasmBackend } from '../../../peer-core/src/backend/wasm/index.ts';
import { createSwarmRuntime, JobBoard, WorkerCompute, type PeerRuntime, type RunSummary, type StepEvent, type VerifiedJob } from '../../../peer-core/src/runtime/index.ts';

export interface TrainOptions {
  relayHttp: string;
  jobId: string;
  text: string;
  snapshotAt?: number[];
  computeLimit?: number;
  allowRelayed?: boolean;
  minPeers?: number;
  /** Held-out batches per evaluation (runtime default 4). */
  evalBatches?: number;
  /** Where the model computes: 'worker' (default; a Web Worker, ./compute.worker.js) or 'inline'
   *  (this page's main thread). */
  compute?: 'worker' | 'inline';
  /** Emulated device: each local step lasts at least this long (PeerRuntime deviceStepMs). */
  deviceStepMs?: number;
}

const WORKER_URL = new URL('./compute.worker.js', location.href).href;

/** The page's compute worker, created once and reused by every job (each job re-initialises it). */
let computeWorker: Worker | undefined;
async function workerCompute(): Promise<WorkerCompute> {
  if (!computeWorker) {
    const r = await fetch(WORKER_URL, { method: 'HEAD' });
    if (!r.ok) throw new Error(`compute worker script ${WORKER_URL}: HTTP ${r.status} (serve the page with the harness's COMPUTE_WORKER, or train with compute: 'inline')`);
    computeWorker = new Worker(WORKER_URL, { type: 'module', name: 'swarmgrad-compute' });
  }
  return new WorkerCompute({ port: computeWorker, backend: 'wasm', terminate: false });
}

function makeApi() {
  let node: SwarmNode | undefined;
  let rt: PeerRuntime | undefined;
  let board: JobBoard | undefined;
  let steps: StepEvent[] = [];
  let evals: { step: number; heldOutLoss: number; ms: number; evalMs: number; bytesUpTotal: number }[] = [];
  let lastEventAt = 0;
  let snapshots: Record<number, number[]> = {};
  let summary: RunSummary | undefined;
  let error: string | undefined;
  let backendName = '';
  let backend: Awaited<ReturnType<typeof createWasmBackend>> | undefined;
  let t0 = 0;
  /** Diagnostics: the job transport's membership events [ms since train(), 'join'|'leave', peer]. */
  let membership: [number, string, string][] = [];
  const need = () => {
    if (!node) throw new Error('peer not started');
    return node;
  };
  async function waitForJob(relayHttp: string, jobId: string): Promise<VerifiedJob> {
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      const j = board!.jobs.get(jobId);
      if (j) return j;
      await board!.fetchJobs(relayHttp).catch(() => []);
      if (board!.jobs.has(jobId)) continue;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`job ${jobId} not heard on the swarm nor at ${relayHttp}api/jobs`);
  }
  return {
    async start(opts: SwarmPeerStartOptions) {
      const { relay, capabilities, ...rest } = opts;
      node = new SwarmNode({ ...(rest as Partial<SwarmNodeInit>), relay, capabilities: { backend: 'wasm', runtime: 'browser', ...capabilities } });
      await node.start();
      board = new JobBoard(node);
      return { peerId: node.peerId, timings: node.timings };
    },
    info() {
      const n = need();
      return { peerId: n.peerId, direct: n.directPeers(), members: n.peers().map((m) => m.peerId) };
    },
    /** Start training the job (returns at once; poll trainStatus). A page trains one job at a time. */
    async train(o: TrainOptions) {
      if (rt && !summary && !error) throw new Error('already training a job');
      steps = [];
      evals = [];
      membership = [];
      snapshots = {};
      summary = undefined;
      error = undefined;
      const job = await waitForJob(o.relayHttp, o.jobId);
      const where = o.compute ?? 'worker';
      let compute: WorkerCompute | undefined;
      if (where === 'worker') {
        compute = await workerCompute();
        backendName = 'wasm';
      } else {
        backend ??= await createWasmBackend();
        backendName = backend.name;
      }
      const n = need();
      rt = createSwarmRuntime({ node: n, jobId: job.jobId, spec: job.spec, text: o.text, backend, compute, computeLimit: o.computeLimit, deviceStepMs: o.deviceStepMs, allowRelayed: o.allowRelayed, minPeers: o.minPeers, evalBatches: o.evalBatches });
      // Snapshot at the first step at or after each requested one (a peer may jump rounds).
      const want = [...(o.snapshotAt ?? [])];
      rt.on('step', (e) => {
        steps.push(e);
        for (const w of want) if (e.step >= w && !(w in snapshots)) snapshots[w] = Array.from(rt!.params()!);
      });
      t0 = performance.now();
      lastEventAt = t0;
      rt.transport.onMembership((e) => membership.push([Math.round(performance.now() - t0), e.type, e.peer]));
      rt.on('step', () => {
        lastEventAt = performance.now();
      });
      // evalMs: time since the previous step event (the evaluation runs right after it).
      rt.on('eval', (e) => {
        const now = performance.now();
        evals.push({ ...e, ms: now - t0, evalMs: now - lastEventAt, bytesUpTotal: steps.at(-1)?.bytesUpTotal ?? 0 });
        lastEventAt = now;
      });
      rt.start().then(
        (s) => {
          summary = s;
          snapshots[-1] = Array.from(rt!.params() ?? []);
        },
        (e: unknown) => {
          error = String(e);
        },
      );
      return { jobId: job.jobId, spec: job.spec, backend: backendName, compute: where };
    },
    trainStatus() {
      return { direct: node?.directPeers().length ?? 0, state: rt?.state ?? 'idle', steps: steps.length, lastStep: steps.at(-1), stepLog: steps.map((s) => ({ step: s.step, peers: s.peers, mixed: s.mixed, missing: s.missing, ms: s.ms, computeMs: s.computeMs, commMs: s.commMs, bytesUp: s.bytesUp, bytesUpTotal: s.bytesUpTotal })),
        bytesByKind: rt ? Object.fromEntries([...rt.transport.ledger.by('kind', { dir: 'sent' })].map(([k, v]) => [k, v])) : {}, evals, summary, error, backend: backendName, seconds: (performance.now() - t0) / 1000, rosterSize: rt?.transport.roster().size ?? 0, shard: rt?.stats().shard, membership, peerId: node?.peerId };
    },
    snapshots() {
      return snapshots;
    },
    /** Emulate a WAN link to `peerId` (this direction); null removes the shaping. */
    setLinkShape(peerId: string, shape: { bytesPerSecond?: number; delayMs?: number } | null) {
      need().setLinkShape(peerId, shape ?? undefined);
    },
    pause() {
      rt?.pause();
    },
    resume() {
      rt?.resume();
    },
    async stop() {
      await rt?.stop();
      board?.close();
      await node?.stop();
      node = undefined;
    },
  };
}

(window as unknown as { swarmgradPeer: unknown }).swarmgradPeer = makeApi();
