/**
 * The runtime's local compute (compute.ts): WorkerCompute over a real MessageChannel to
 * serveCompute gives exactly what InlineCompute gives on this thread (same x0, same steps, same
 * evaluations), leaves the caller's vector alone, and fails with ComputeError, never a hang,
 * when the worker errors, crashes or is disposed. And a PeerRuntime trains the same with either.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/backend/cpu/index.ts';
import { loadCorpusText } from '../../src/data/node.ts';
import { InMemoryNetwork } from '../../src/gossip/memory.ts';
import { RealClock } from '../../src/gossip/clock.ts';
import { defaultJobSpec } from '../../src/job/index.ts';
import {
  ComputeError,
  type ComputePort,
  InlineCompute,
  jobDataset,
  MemoryJobNetwork,
  PeerRuntime,
  ShardSampler,
  serveCompute,
  WorkerCompute,
} from '../../src/runtime/index.ts';

const text = loadCorpusText('moby-dick', { maxChars: 40_000 });
const spec = defaultJobSpec({
  model: { vocabSize: 256, contextLength: 16, nLayer: 1, nHead: 2, nEmbd: 16, initSeed: 11 },
  optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 },
  schedule: { kind: 'cosine', warmupSteps: 2 },
  batch: { perPeer: 4, gradAccumulation: 2 },
  stopping: { maxSteps: 12, evalEverySteps: 4 },
  peers: { min: 1, max: 1 },
});

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

/** A WorkerCompute whose "worker" is serveCompute on the other end of a MessageChannel. */
function workerPair(): WorkerCompute {
  const ch = new MessageChannel();
  channels.push(ch);
  serveCompute(ch.port2 as unknown as ComputePort, async () => createCpuBackend());
  ch.port1.start();
  ch.port2.start();
  return new WorkerCompute({ port: ch.port1 as unknown as ComputePort, backend: 'cpu' });
}

describe('WorkerCompute', () => {
  it('matches InlineCompute exactly: x0, every step (loss, lr, parameters) and evaluations', async () => {
    const ds = await jobDataset(spec, text);
    const sampler = new ShardSampler(ds, spec, { index: 0, count: 1 }, 1234);
    const heldOut = ds.evalBatches('heldOut', 4, 16, 2);
    const inline = new InlineCompute({ backend: createCpuBackend() });
    const worker = workerPair();
    const x0 = await inline.init(spec);
    const w0 = await worker.init(spec);
    expect(worker.backendName).toBe('cpu');
    expect(Array.from(w0)).toEqual(Array.from(x0));
    let xi = x0;
    let xw = w0;
    for (let step = 0; step < 4; step++) {
      const batches = [sampler.next(), sampler.next()];
      const keep = xw.slice();
      const [a, b] = await Promise.all([inline.step(xi, step, batches), worker.step(xw, step, batches)]);
      expect(Array.from(xw)).toEqual(Array.from(keep)); // the caller's vector is not moved or changed
      expect(b.loss).toBe(a.loss);
      expect(b.lr).toBe(a.lr);
      expect(Array.from(b.y)).toEqual(Array.from(a.y));
      // The step changed the parameters (the comparison is not between two no-ops).
      expect(Array.from(a.y)).not.toEqual(Array.from(xi));
      xi = a.y;
      xw = b.y;
    }
    const [li, lw] = await Promise.all([inline.evaluate(xi, heldOut), worker.evaluate(xw, heldOut)]);
    expect(lw).toBe(li);
    expect(Number.isFinite(li)).toBe(true);
    inline.dispose();
    worker.dispose();
  });

  it('a request the worker cannot serve rejects with ComputeError and the worker keeps serving', async () => {
    const worker = workerPair();
    const ds = await jobDataset(spec, text);
    const batch = ds.evalBatches('heldOut', 4, 16, 1);
    await expect(worker.step(new Float32Array(10), 0, batch)).rejects.toThrow(ComputeError);
    await expect(worker.step(new Float32Array(10), 0, batch)).rejects.toThrow(/before init/);
    const x0 = await worker.init(spec);
    await expect(worker.init(spec)).rejects.toThrow(/already initialised/);
    // A parameter vector of the wrong length is the model's named error, passed on by name.
    const wrong = worker.evaluate(new Float32Array(3), batch);
    await expect(wrong).rejects.toThrow(ComputeError);
    await expect(wrong).rejects.toThrow(/^ModelInputError: flat params hold 3 floats/);
    expect(Number.isFinite(await worker.evaluate(x0, batch))).toBe(true);
    worker.dispose();
  });

  it('a crashed worker fails every pending and later call; dispose() does too', async () => {
    const port = new EventTarget() as EventTarget & ComputePort;
    const posted: unknown[] = [];
    port.postMessage = (m: unknown) => void posted.push(m);
    let terminated = 0;
    port.terminate = () => void terminated++;
    const c = new WorkerCompute({ port });
    const pending = c.init(spec);
    expect(posted).toHaveLength(1);
    port.dispatchEvent(Object.assign(new Event('error'), { message: 'out of memory' }));
    await expect(pending).rejects.toThrow(/compute worker crashed: out of memory/);
    await expect(c.evaluate(new Float32Array(1), [])).rejects.toThrow(ComputeError);
    c.dispose();
    expect(terminated).toBe(1);

    const d = new WorkerCompute({ port, terminate: false });
    const p2 = d.evaluate(new Float32Array(1), []);
    d.dispose();
    await expect(p2).rejects.toThrow(/disposed/);
    expect(terminated).toBe(1);
    // A reply addressed to a disposed client (a reused worker) is ignored, not misdelivered.
    const e = new WorkerCompute({ port, terminate: false });
    const p3 = e.init(spec);
    const lastId = (posted.at(-1) as { id: number }).id;
    port.dispatchEvent(new MessageEvent('message', { data: { id: lastId - 1, ok: true, loss: 1 } }));
    port.dispatchEvent(new MessageEvent('message', { data: { id: lastId, ok: true, x0: new Float32Array([1, 2]), backendName: 'x' } }));
    expect(Array.from(await p3)).toEqual([1, 2]);
  });
});

describe('PeerRuntime with a WorkerCompute', () => {
  it('trains exactly like the inline default (same steps, losses and final parameters)', async () => {
    const ds = await jobDataset(spec, text);
    const run = async (compute?: WorkerCompute) => {
      const net = new InMemoryNetwork({ clock: new RealClock() });
      const transport = new MemoryJobNetwork(net).join('solo');
      const rt = new PeerRuntime({ spec, transport, dataset: ds, minPeers: 1, startWaitMs: 0, backend: createCpuBackend(), compute });
      const losses: number[] = [];
      const evals: number[] = [];
      rt.on('step', (e) => losses.push(e.loss));
      rt.on('eval', (e) => evals.push(e.heldOutLoss));
      const s = await rt.start();
      return { s, losses, evals, x: rt.params()!, backend: rt.stats().backend };
    };
    const a = await run();
    const b = await run(workerPair());
    expect(b.s.steps).toBe(12);
    expect(b.losses).toEqual(a.losses);
    expect(b.evals).toEqual(a.evals);
    expect(Array.from(b.x)).toEqual(Array.from(a.x));
    expect(b.backend).toBe('cpu');
    expect(a.losses.at(-1)!).toBeLessThan(a.losses[0]!);
  });
});
