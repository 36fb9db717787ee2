import { describe, expect, it } from 'vitest';
import {
  ControlGate,
  canonicalJson,
  generateHostKey,
  hostKeyFromBytes,
  hostKeyToBytes,
  hostOfJobId,
  peerIdOf,
  sign,
  signControl,
  signJob,
  verifyControl,
  verifyJob,
} from '../../src/job/authority.ts';

const spec = { name: 'demo', model: { layers: 2, dModel: 64 }, lr: 0.001 };

describe('canonicalJson', () => {
  it('sorts keys at every level so equal objects sign identically', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'z' } })).toBe(canonicalJson({ a: { c: 'z', d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });
  it('refuses non-finite numbers', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/non-finite/);
  });
});

describe('job authority', () => {
  it('a host key survives a round trip through bytes (what IndexedDB stores)', async () => {
    const key = await generateHostKey();
    const back = hostKeyFromBytes(hostKeyToBytes(key));
    expect(peerIdOf(back)).toBe(peerIdOf(key));
  });

  it('accepts a valid signed job and control message', async () => {
    const host = await generateHostKey();
    const job = await signJob(host, spec);
    expect(hostOfJobId(job.payload.jobId)).toBe(peerIdOf(host));
    const gate = new ControlGate();
    const j = await gate.admitJob(job);
    expect(j.ok).toBe(true);
    const c = await gate.admitControl(await signControl(host, job.payload.jobId, 'pause', 1));
    expect(c).toMatchObject({ ok: true, value: { action: 'pause', seq: 1 }, host: peerIdOf(host) });
  });

  it('rejects a tampered payload (job spec and control message)', async () => {
    const host = await generateHostKey();
    const job = await signJob(host, spec);
    const tampered = structuredClone(job);
    tampered.payload.spec.lr = 10;
    expect(await verifyJob(tampered)).toMatchObject({ ok: false, reason: 'bad signature' });

    const gate = new ControlGate();
    await gate.admitJob(job);
    const ctl = await signControl(host, job.payload.jobId, 'pause', 1);
    const flipped = { ...ctl, payload: { ...ctl.payload, action: 'stop' as const } };
    expect(await gate.admitControl(flipped)).toMatchObject({ ok: false, reason: 'bad signature' });
    // The untouched message is still fine afterwards.
    expect((await gate.admitControl(ctl)).ok).toBe(true);
  });

  it('rejects control signed by a key other than the job host', async () => {
    const host = await generateHostKey();
    const intruder = await generateHostKey();
    const job = await signJob(host, spec);
    const gate = new ControlGate();
    await gate.admitJob(job);
    const r = await gate.admitControl(await signControl(intruder, job.payload.jobId, 'stop', 5));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/not by the host/);
    // A validly signed announcement of someone else's job id is refused too.
    const hijack = await sign(intruder, 'job', { ...job.payload });
    const h = await verifyJob(hijack);
    expect(h.ok).toBe(false);
    if (!h.ok) expect(h.reason).toMatch(/not under its signer/);
  });

  it('rejects replays, unknown jobs and malformed network input without throwing', async () => {
    const host = await generateHostKey();
    const job = await signJob(host, spec);
    const gate = new ControlGate();
    const early = await signControl(host, job.payload.jobId, 'start', 1);
    expect(await gate.admitControl(early)).toMatchObject({ ok: false });
    await gate.admitJob(job);
    expect((await gate.admitControl(early)).ok).toBe(true);
    expect((await gate.admitControl(early)).ok).toBe(false);
    for (const junk of [null, 42, 'x', {}, { kind: 'control' }, { kind: 'control', signer: '!!', signature: '!!', payload: {} }]) {
      expect((await verifyControl(junk)).ok).toBe(false);
    }
  });
});
