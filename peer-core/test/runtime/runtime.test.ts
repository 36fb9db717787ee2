/**
 * PeerRuntime over in-memory job transports (gossip's InMemoryNetwork + a shared roster), real
 * wasm backend, real data: a swarm trains, a crashed peer does not stall the others, a late
 * peer pulls the model before contributing, pause/resume leave and re-enter the topology, the
 * compute limit stretches steps, and every gossip byte shows up in the ledger and the events.
 */
import { describe, expect, it, vi } from 'vitest';
import { createWasmBackendSync } from '../../src/backend/wasm/index.ts';
import { loadCorpusText } from '../../src/data/node.ts';
import { Adpsgd } from '../../src/gossip/adpsgd.ts';
import type { RoundReport } from '../../src/gossip/base.ts';
import { RealClock } from '../../src/gossip/clock.ts';
import { InMemoryNetwork } from '../../src/gossip/memory.ts';
import { defaultJobSpec, type JobSpecInput } from '../../src/job/index.ts';
import { jobDataset, MemoryJobNetwork, PeerRuntime, type RunSummary, RuntimeConfigError, type StepEvent } from '../../src/runtime/index.ts';

const text = loadCorpusText('moby-dick', { maxChars: 80_000 });

function tinySpec(over: JobSpecInput = {}) {
  return defaultJobSpec({
    model: { vocabSize: 256, contextLength: 16, nLayer: 1, nHead: 2, nEmbd: 16, initSeed: 7 },
    optimizer: { lr: 1e-2 },
    schedule: { kind: 'constant', warmupSteps: 0 },
    batch: { perPeer: 8 },
    stopping: { maxSteps: 30, evalEverySteps: 10 },
    peers: { min: 1, max: 8 },
    ...over,
  });
}

interface Peer {
  id: string;
  rt: PeerRuntime;
  steps: StepEvent[];
  done: Promise<RunSummary>;
}

async function swarm(n: number, spec: ReturnType<typeof tinySpec>, opts: { failureDetectMs?: number; minPeers?: number; latencyMs?: number } = {}) {
  const net = new InMemoryNetwork({ clock: new RealClock(), failureDetectMs: opts.failureDetectMs ?? 300, latencyMs: opts.latencyMs });
  const jobNet = new MemoryJobNetwork(net);
  const ds = await jobDataset(spec, text);
  const peers: Peer[] = [];
  const add = (id: string, minPeers = opts.minPeers ?? n): Peer => {
    const transport = jobNet.join(id);
    const rt = new PeerRuntime({ spec, transport, backend: createWasmBackendSync(), dataset: ds, minPeers, startWaitMs: 5000, pullTimeoutMs: 2000 });
    const steps: StepEvent[] = [];
    rt.on('step', (e) => steps.push(e));
    const p = { id, rt, steps, done: undefined as unknown as Promise<RunSummary> };
    peers.push(p);
    return p;
  };
  for (let i = 0; i < n; i++) add(`p${i}`);
  return { net, jobNet, ds, peers, add };
}

function dist(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

describe('PeerRuntime (in-memory swarm)', () => {
  it('4 peers train with choco + int8: held-out loss falls, replicas agree, every byte is in the ledger', async () => {
    const spec = tinySpec({ algorithm: { name: 'choco', timeoutMs: 3000 }, codec: { name: 'int8' }, topology: { kind: 'ring' } });
    const { peers } = await swarm(4, spec);
    const evals = new Map<string, number[]>();
    const snaps: Float32Array[][] = [];
    for (const p of peers) {
      evals.set(p.id, []);
      p.rt.on('eval', (e) => evals.get(p.id)!.push(e.heldOutLoss));
    }
    // Replica spread after step 3 (early) vs at the end.
    peers[0].rt.on('step', (e) => {
      if (e.step === 3) snaps.push(peers.map((q) => q.rt.params()!));
    });
    expect(peers[0].rt.state).toBe('idle');
    const summaries = await Promise.all(peers.map((p) => p.rt.start()));
    for (const [i, s] of summaries.entries()) {
      expect(s.reason).toBe('maxSteps');
      expect(s.steps).toBe(30);
      // Evaluated at step 0 (the shared x0) and at the end: at least 1 nat lower.
      const ev = evals.get(peers[i].id)!;
      expect(ev[0]).toBeGreaterThan(5);
      expect(s.heldOutLoss).toBeLessThan(ev[0] - 1);
      // The per-step byte events add up to the ledger's totals.
      const up = peers[i].steps.reduce((a, e) => a + e.bytesUp, 0);
      const down = peers[i].steps.reduce((a, e) => a + e.bytesDown, 0);
      expect(up).toBe(s.bytesUp);
      expect(down).toBeLessThanOrEqual(s.bytesDown);
      expect(down).toBe(peers[i].steps.at(-1)!.bytesDownTotal);
      expect(peers[i].rt.transport.ledger.total({ dir: 'sent', kind: 'choco-q' }).bytes).toBeGreaterThan(0);
      // A fresh start together transfers no parameters: every peer builds x0 from model.initSeed,
      // and a pull answered before any step is an empty "at init" answer (frame header only).
      expect(s.joinedFrom).toBeUndefined();
      const answers = peers[i].rt.transport.ledger.total({ dir: 'sent', kind: 'model' });
      expect(answers.bytes).toBeLessThanOrEqual(answers.messages * 64);
      // Most rounds see all 4 peers and mix both ring neighbours (peers that finish first leave).
      const full = peers[i].steps.filter((e) => e.peers === 4 && e.mixed === 2).length;
      expect(full).toBeGreaterThan(peers[i].steps.length / 2);
    }
    const final = peers.map((p) => p.rt.params()!);
    const spreadEnd = Math.max(...final.slice(1).map((f) => dist(f, final[0])));
    const early = snaps[0];
    const spreadEarly = Math.max(...early.slice(1).map((f) => dist(f, early[0])));
    expect(spreadEnd).toBeLessThan(spreadEarly);
  }, 60_000);

  it('peers that pick the job up at different times still get distinct contiguous shards', async () => {
    // Each peer joins the network (and starts) 150 ms after the previous one, in reverse id order:
    // a shard rank taken at setup would see only the peers above it and give every peer index 0.
    const spec = tinySpec({ algorithm: { name: 'dpsgd', timeoutMs: 2000 }, codec: { name: 'none' }, topology: { kind: 'ring' }, stopping: { maxSteps: 3, evalEverySteps: 3 }, peers: { min: 4, max: 4 } });
    const s = await swarm(0, spec);
    const runs: Promise<RunSummary>[] = [];
    for (const id of ['p3', 'p2', 'p1', 'p0']) {
      const p = s.add(id, 4);
      runs.push(p.rt.start());
      await new Promise((r) => setTimeout(r, 150));
    }
    const done = await Promise.all(runs);
    for (const d of done) expect(d.steps).toBe(3);
    const shards = s.peers.map((p) => p.rt.stats().shard!);
    for (const sh of shards) expect(sh.count).toBe(4);
    // Ranks among the sorted ids: p0 → 0 … p3 → 3.
    expect(s.peers.map((p) => [p.id, shards[s.peers.indexOf(p)].index])).toEqual([
      ['p3', 3],
      ['p2', 2],
      ['p1', 1],
      ['p0', 0],
    ]);
  }, 60_000);

  it('a peer that crashes mid-run does not stall the others (timeouts, then the topology heals)', async () => {
    const spec = tinySpec({ algorithm: { name: 'dpsgd', timeoutMs: 400 }, codec: { name: 'none' }, topology: { kind: 'ring' }, stopping: { maxSteps: 25, evalEverySteps: 25 } });
    const { jobNet, peers } = await swarm(3, spec, { failureDetectMs: 600 });
    peers[0].rt.on('step', (e) => {
      if (e.step === 5) jobNet.kill('p2');
    });
    const t0 = performance.now();
    const runs = peers.map((p) => p.rt.start());
    const [a, b] = await Promise.all([runs[0], runs[1]]);
    expect(a.steps).toBe(25);
    expect(b.steps).toBe(25);
    expect(performance.now() - t0).toBeLessThan(30_000);
    const s0 = peers[0].steps;
    expect(s0.some((e) => e.missing > 0)).toBe(true);
    // After the leave is detected the ring re-forms over the two survivors: full rounds again.
    expect(s0.some((e) => e.step > 5 && e.peers === 2 && e.mixed === 1 && e.missing === 0)).toBe(true);
    await peers[2].rt.stop();
  }, 60_000);

  it('a late peer pulls the current model and step from a neighbour before contributing', async () => {
    const spec = tinySpec({ algorithm: { name: 'dpsgd', timeoutMs: 2000 }, codec: { name: 'none' }, topology: { kind: 'full' }, stopping: { maxSteps: 40, evalEverySteps: 40 } });
    const s = await swarm(2, spec);
    let late: Peer | undefined;
    let lateStart: Promise<RunSummary> | undefined;
    let served: Float32Array | undefined;
    s.peers[0].rt.on('step', (e) => {
      if (e.step === 10 && !late) {
        late = s.add('p9', 1);
        const joined: { from: string; step: number }[] = [];
        late.rt.on('joined', (j) => {
          joined.push(j);
          served = late!.rt.params();
        });
        lateStart = late.rt.start();
      }
    });
    const done = await Promise.all(s.peers.slice(0, 2).map((p) => p.rt.start()));
    const l = await lateStart!;
    expect(done[0].steps).toBe(40);
    expect(l.joinedFrom).toMatch(/^p[01]$/);
    expect(late!.steps[0].step).toBeGreaterThan(10);
    expect(l.localSteps).toBeLessThan(40);
    // What it pulled is a trained model, not the shared initialisation x0.
    const x0 = new PeerRuntime({ spec, transport: s.jobNet.join('x0'), backend: createWasmBackendSync(), dataset: s.ds });
    expect(served).toBeDefined();
    expect(x0.params()).toBeUndefined();
    // D-PSGD on the full graph averages exactly each round: the late peer ends with the others.
    const a = s.peers[0].rt.params()!;
    expect(dist(late!.rt.params()!, a)).toBeLessThan(1e-3 * Math.sqrt(a.length));
  }, 60_000);

  it('pause leaves the topology and resume re-enters it; the compute limit stretches steps', async () => {
    const spec = tinySpec({ algorithm: { name: 'dpsgd', timeoutMs: 1000 }, codec: { name: 'fp16' }, topology: { kind: 'full' }, stopping: { maxSteps: 40, evalEverySteps: 40 } });
    const { peers } = await swarm(3, spec);
    const p2 = peers[2];
    const states: string[] = [];
    p2.rt.on('state', (e) => states.push(e.state));
    peers[0].rt.on('step', (e) => {
      if (e.step === 8) p2.rt.pause();
      if (e.step === 20) p2.rt.resume();
    });
    peers[1].rt.setComputeLimit(0.5);
    const out = await Promise.all(peers.map((p) => p.rt.start()));
    expect(states).toContain('paused');
    expect(states.filter((s) => s === 'training').length).toBeGreaterThanOrEqual(2);
    const seen = peers[0].steps.map((e) => e.peers);
    expect(seen).toContain(2);
    expect(seen.at(-1)).toBe(3);
    expect(out[2].localSteps).toBeLessThan(40);
    const limited = peers[1].steps.slice(2);
    const ratio = limited.reduce((a, e) => a + (e.ms - e.commMs), 0) / limited.reduce((a, e) => a + e.computeMs, 0);
    expect(ratio).toBeGreaterThan(1.7);
  }, 60_000);

  // AD-PSGD's exchange runs while the next local step computes (algorithm.overlap, default on):
  // a step event is emitted with its own exchange still in flight, a peer never has two of its
  // exchanges in flight, and the run settles the last one before it ends. With overlap off, every
  // step waits for its exchange. Both train (held-out loss falls).
  for (const overlap of [true, false]) {
    it(`adpsgd with overlap ${overlap ? 'on (default)' : 'off'}: ${overlap ? 'one exchange in flight during the next step' : 'each step waits for its exchange'}`, async () => {
      type Ev = { kind: 'start' | 'end' | 'step' | 'done'; peer: string; step: number };
      const log: Ev[] = [];
      const orig = Adpsgd.prototype.mix;
      const spy = vi.spyOn(Adpsgd.prototype, 'mix').mockImplementation(async function (this: Adpsgd, x: Float32Array, step: number): Promise<RoundReport> {
        log.push({ kind: 'start', peer: this.transport.self, step });
        try {
          return await orig.call(this, x, step);
        } finally {
          log.push({ kind: 'end', peer: this.transport.self, step });
        }
      });
      try {
        const spec = tinySpec({ algorithm: { name: 'adpsgd', timeoutMs: 2000, ...(overlap ? {} : { overlap: false }) }, codec: { name: 'none' }, topology: { kind: 'ring' }, stopping: { maxSteps: 20, evalEverySteps: 20 } });
        const { peers } = await swarm(4, spec, { latencyMs: 20 });
        for (const p of peers) {
          p.rt.on('step', (e) => log.push({ kind: 'step', peer: p.id, step: e.step - 1 }));
          p.rt.on('done', () => log.push({ kind: 'done', peer: p.id, step: -1 }));
        }
        const initial = new Map<string, number>();
        for (const p of peers) p.rt.on('eval', (e) => e.step === 0 && !initial.has(p.id) && initial.set(p.id, e.heldOutLoss));
        const out = await Promise.all(peers.map((p) => p.rt.start()));
        for (const p of peers) {
          const mine = log.filter((e) => e.peer === p.id);
          let inFlight = 0;
          let maxInFlight = 0;
          let stepsDuringOwnExchange = 0;
          const open = new Set<number>();
          for (const e of mine) {
            if (e.kind === 'start') {
              inFlight++;
              open.add(e.step);
            } else if (e.kind === 'end') {
              inFlight--;
              open.delete(e.step);
            } else if (e.kind === 'step' && open.has(e.step)) stepsDuringOwnExchange++;
            else if (e.kind === 'done') expect(inFlight, `${p.id} ended with an exchange in flight`).toBe(0);
            maxInFlight = Math.max(maxInFlight, inFlight);
          }
          expect(mine.filter((e) => e.kind === 'start').length).toBe(20);
          expect(maxInFlight).toBe(1);
          if (overlap) expect(stepsDuringOwnExchange).toBe(20);
          else expect(stepsDuringOwnExchange).toBe(0);
        }
        for (const [i, s] of out.entries()) expect(s.heldOutLoss).toBeLessThan(initial.get(peers[i]!.id)!);
      } finally {
        spy.mockRestore();
      }
    }, 60_000);
  }

  it('an emulated device (deviceStepMs) stretches every local step to its time; its neighbour waits for it', async () => {
    const spec = tinySpec({ algorithm: { name: 'dpsgd', timeoutMs: 5000 }, topology: { kind: 'ring' }, stopping: { maxSteps: 6, evalEverySteps: 6 } });
    const net = new InMemoryNetwork({ clock: new RealClock() });
    const jobNet = new MemoryJobNetwork(net);
    const ds = await jobDataset(spec, text);
    const mk = (id: string, deviceStepMs: number) => new PeerRuntime({ spec, transport: jobNet.join(id), backend: createWasmBackendSync(), dataset: ds, minPeers: 2, startWaitMs: 5000, deviceStepMs });
    const slow = mk('slow', 300);
    const fast = mk('fast', 0);
    const slowSteps: StepEvent[] = [];
    const fastSteps: StepEvent[] = [];
    slow.on('step', (e) => slowSteps.push(e));
    fast.on('step', (e) => fastSteps.push(e));
    await Promise.all([slow.start(), fast.start()]);
    expect(slowSteps).toHaveLength(6);
    for (const e of slowSteps) {
      expect(e.ms).toBeGreaterThanOrEqual(295);
      expect(e.computeMs).toBeLessThan(e.ms); // computeMs is the real computation, not the wait
    }
    // Synchronous rounds: the fast peer's rounds last as long as the slow device's steps.
    const fastMean = fastSteps.slice(1).reduce((a, e) => a + e.ms, 0) / (fastSteps.length - 1);
    expect(fastMean).toBeGreaterThan(200);
    const net2 = new MemoryJobNetwork(new InMemoryNetwork({ clock: new RealClock() }));
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new PeerRuntime({ spec, transport: net2.join(`b${bad}`), deviceStepMs: bad })).toThrow(RuntimeConfigError);
  }, 60_000);

  it('rejects a bad compute limit and a vocabulary the tokenizer does not fit', async () => {
    const net = new MemoryJobNetwork(new InMemoryNetwork({ clock: new RealClock() }));
    const spec = tinySpec();
    expect(() => new PeerRuntime({ spec, transport: net.join('a'), computeLimit: 0 })).toThrow(RuntimeConfigError);
    const charSpec = defaultJobSpec({ ...tinySpec(), dataset: { tokenizer: 'char' }, model: { vocabSize: 8, nHead: 2, nEmbd: 16, contextLength: 16, nLayer: 1 } });
    await expect(jobDataset(charSpec, text)).rejects.toThrow(RuntimeConfigError);
  });
});
