/** Job spec: defaults, good specs, and field-level errors for bad ones. */
import { describe, expect, it } from 'vitest';
import { createCodec } from '../../src/codecs/index.ts';
import { checkJobSpec, defaultJobSpec, jobCodec, jobGossipOptions, JobSpecError, parseJobSpec } from '../../src/job/index.ts';

function issues(json: unknown) {
  const r = checkJobSpec(json);
  if (r.ok) throw new Error('expected the spec to be rejected');
  return r.issues;
}

describe('job spec', () => {
  it('an empty document is the small demo job with every default filled in', () => {
    const s = parseJobSpec('{}');
    expect(s.version).toBe(1);
    expect(s.algorithm.name).toBe('choco');
    expect(s.codec.name).toBe('int8');
    expect(s.topology.kind).toBe('exponential');
    expect(s.model.nEmbd % s.model.nHead).toBe(0);
    expect(s.stopping.maxSteps).toBeGreaterThan(s.schedule.warmupSteps);
    expect(defaultJobSpec()).toEqual(s);
  });

  it('a full good spec round-trips through JSON and maps onto codec and gossip options', () => {
    const doc = {
      version: 1,
      name: 'tiny gpt, dpsgd + top-k',
      model: { kind: 'gpt', vocabSize: 50257, contextLength: 128, nLayer: 4, nHead: 4, nEmbd: 128, initSeed: 7 },
      dataset: { corpus: 'sotu', tokenizer: 'gpt2', heldOutFraction: 0.05, sharding: 'iid', seed: 3 },
      optimizer: { kind: 'sgd', lr: 0.1, momentum: 0.9 },
      schedule: { kind: 'linear', warmupSteps: 10, minLrRatio: 0 },
      batch: { perPeer: 4, gradAccumulation: 2 },
      algorithm: { name: 'choco', gamma: 0.3, timeoutMs: 2000 },
      topology: { kind: 'random-regular', degree: 4, seed: 9 },
      codec: { name: 'topk', fraction: 0.01 },
      mixing: { everySteps: 2 },
      stopping: { maxSteps: 1000, targetLoss: 4.5, maxMinutes: 30, evalEverySteps: 50 },
      peers: { min: 4, max: 8 },
    };
    const s = parseJobSpec(JSON.stringify(doc));
    expect(parseJobSpec(JSON.stringify(s))).toEqual(s);
    expect(s.optimizer.beta2).toBe(0.999); // default inside a given section
    const codec = createCodec(jobCodec(s));
    expect(codec.name).toBe('topk');
    const g = jobGossipOptions(s);
    expect(g.gamma).toBe(0.3);
    expect(g.topologyOptions).toEqual({ degree: 4, seed: 9 });
  });

  it('type and range errors name the field', () => {
    const got = issues({ model: { nLayer: 0, nHead: 'four' }, optimizer: { lr: -1 }, codec: { name: 'zip' }, stopping: { maxSteps: 2.5 } });
    const paths = got.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['model.nLayer', 'model.nHead', 'optimizer.lr', 'codec.name', 'stopping.maxSteps']));
    for (const i of got) expect(i.message.length).toBeGreaterThan(0);
  });

  it('unknown fields are rejected (typos do not pass silently)', () => {
    expect(issues({ algorithm: { name: 'dpsgd', gama: 0.5 } }).map((i) => i.path)).toContain('algorithm');
    expect(issues({ optimiser: {} })[0].path).toBe('');
  });

  it('cross-field rules are reported at the field they concern', () => {
    const check = (doc: unknown, path: string, re: RegExp) => {
      const found = issues(doc).find((i) => i.path === path);
      expect(found, `${path} in ${JSON.stringify(issues(doc))}`).toBeDefined();
      expect(found!.message).toMatch(re);
    };
    check({ model: { nEmbd: 64, nHead: 6 } }, 'model.nHead', /must divide model.nEmbd/);
    check({ algorithm: { name: 'dpsgd', gamma: 0.5 } }, 'algorithm.gamma', /only applies to choco/);
    check({ algorithm: { name: 'allreduce' }, topology: { kind: 'ring' } }, 'topology.kind', /use 'full'/);
    check({ topology: { kind: 'random-regular', degree: 3 } }, 'topology.degree', /must be even/);
    check({ codec: { name: 'int8', fraction: 0.1 } }, 'codec.fraction', /only applies to topk and randomk/);
    check({ codec: { name: 'sign', blockSize: 100 } }, 'codec.blockSize', /power of two/);
    check({ dataset: { tokenizer: 'gpt2' } }, 'model.vocabSize', /50257/);
    check({ schedule: { warmupSteps: 500 } }, 'schedule.warmupSteps', /below stopping.maxSteps/);
    check({ peers: { min: 9, max: 4 } }, 'peers.min', /must not exceed/);
    check({ algorithm: { name: 'choco', gamma: 1.5 } }, 'algorithm.gamma', /.+/);
  });

  it('bad JSON and wrong versions are JobSpecErrors', () => {
    expect(() => parseJobSpec('{nope')).toThrow(JobSpecError);
    try {
      parseJobSpec({ version: 2 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(JobSpecError);
      expect((e as JobSpecError).issues[0].path).toBe('version');
      expect((e as Error).message).toMatch(/version/);
    }
    expect(issues(null)[0].path).toBe('');
    expect(issues([])[0].path).toBe('');
  });
});
