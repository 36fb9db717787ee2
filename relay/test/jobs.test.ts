/**
 * The relay's job store: signed announcements are verified (signature, job id under the
 * signer's peer id, spec), persisted across restarts, republished for late joiners, served at
 * /api/jobs, and received from gossipsub; bad ones are rejected with a reason, never stored.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import { runtime } from '@swarmgrad/peer-core';
import { createLibp2p } from 'libp2p';
import { describe, expect, it } from 'vitest';
import { JOBS_FILE, JobStore } from '../src/jobs.ts';
import { startRelay } from '../src/relay.ts';

const dataDir = () => mkdtempSync(join(tmpdir(), 'sg-jobs-'));

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

/** A stand-in gossipsub that records what the store publishes. */
function fakePubsub() {
  const published: { topic: string; data: Uint8Array }[] = [];
  const listeners = new Set<(e: CustomEvent<{ topic: string; data: Uint8Array }>) => void>();
  return {
    published,
    subscribe() {},
    unsubscribe() {},
    async publish(topic: string, data: Uint8Array) {
      published.push({ topic, data });
    },
    addEventListener(_t: 'message', cb: (e: CustomEvent<{ topic: string; data: Uint8Array }>) => void) {
      listeners.add(cb);
    },
    removeEventListener(_t: 'message', cb: (e: CustomEvent<{ topic: string; data: Uint8Array }>) => void) {
      listeners.delete(cb);
    },
    deliver(topic: string, data: Uint8Array) {
      for (const cb of listeners) cb(new CustomEvent('message', { detail: { topic, data } }));
    },
  };
}

describe('relay job store', () => {
  it('stores verified jobs, persists them across restarts and republishes them', async () => {
    const dir = dataDir();
    const key = await runtime.generateHostKey();
    const env = await runtime.signJob(key, { name: 'tiny', algorithm: { name: 'choco' }, codec: { name: 'int8' } });
    const ps = fakePubsub();
    const a = new JobStore({ dataDir: dir, pubsub: ps, republishMs: 30 });
    await a.start();
    const v = await a.add(env);
    expect(v.ok).toBe(true);
    expect(a.get(env.payload.jobId)).toEqual(env);
    expect(existsSync(join(dir, JOBS_FILE))).toBe(true);
    // Published at once, then again for late subscribers.
    expect(await until(() => ps.published.length >= 3, 2000)).toBe(true);
    expect(ps.published.every((p) => p.topic === runtime.JOBS_TOPIC)).toBe(true);
    a.stop();
    const b = new JobStore({ dataDir: dir });
    await b.start();
    expect(b.list().map((e) => e.payload.jobId)).toEqual([env.payload.jobId]);
    b.stop();
  });

  it('rejects bad signatures, foreign job ids and invalid specs with a reason', async () => {
    const store = new JobStore({ dataDir: dataDir() });
    await store.start();
    const key = await runtime.generateHostKey();
    const other = await runtime.generateHostKey();
    const good = await runtime.signJob(key, {});
    const tampered = { ...good, payload: { ...good.payload, createdAt: good.payload.createdAt + 1 } };
    const r1 = await store.add(tampered);
    expect(r1.ok === false && r1.reason).toBe('bad signature');
    // A job id under someone else's peer id, properly signed by `other`.
    const foreign = await runtime.signJob(other, {});
    const stolen = await runtime.signJob(other, {});
    const forged = { ...stolen, payload: { ...stolen.payload, jobId: good.payload.jobId } };
    const r2 = await store.add(forged);
    expect(r2.ok).toBe(false);
    const bad = await runtime.signJob(key, { model: { nEmbd: 30, nHead: 4 } });
    const r3 = await store.add(bad);
    expect(r3.ok === false && r3.reason).toMatch(/model\.nHead/);
    expect(await store.add({ kind: 'job' })).toMatchObject({ ok: false });
    expect(store.list()).toEqual([]);
    expect(store.rejected).toBe(4);
    expect((await store.add(foreign)).ok).toBe(true);
  });

  it('hears announcements on gossipsub and serves them at /api/jobs', async () => {
    const dir = dataDir();
    const relay = await startRelay({ dataDir: dir, httpPort: 0, wsPort: 0, webDir: dir });
    const host = await createLibp2p({
      transports: [webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: { denyDialMultiaddr: () => false },
      services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }) },
    });
    try {
      const key = await runtime.generateHostKey();
      const env = await runtime.signJob(key, { name: 'over gossipsub' });
      await host.dial(multiaddr(relay.info().multiaddrs.find((a) => a.includes('/ws/'))!));
      host.services.pubsub.subscribe(runtime.JOBS_TOPIC);
      const data = new TextEncoder().encode(JSON.stringify(env));
      // Publish until the relay has it (the gossipsub mesh forms within a heartbeat or two).
      const ok = await until(() => {
        void host.services.pubsub.publish(runtime.JOBS_TOPIC, data).catch(() => {});
        return relay.jobs.get(env.payload.jobId) !== undefined;
      }, 15_000);
      expect(ok).toBe(true);
      const list = await (await fetch(`${relay.http.url}api/jobs`)).json();
      expect(list.jobs.map((j: { payload: { jobId: string } }) => j.payload.jobId)).toEqual([env.payload.jobId]);
      const one = await fetch(`${relay.http.url}api/jobs/${encodeURIComponent(env.payload.jobId)}`);
      expect(one.status).toBe(200);
      expect((await fetch(`${relay.http.url}api/jobs/nope`)).status).toBe(404);
      // POST: a second job; a garbage one gets 400 with the reason.
      const env2 = await runtime.signJob(key, { name: 'over http' });
      const post = await fetch(`${relay.http.url}api/jobs`, { method: 'POST', body: JSON.stringify(env2) });
      expect(post.status).toBe(201);
      const badPost = await fetch(`${relay.http.url}api/jobs`, { method: 'POST', body: JSON.stringify({ ...env2, signature: env.signature }) });
      expect(badPost.status).toBe(400);
      expect((await badPost.json()).reason).toBe('bad signature');
      expect((await fetch(`${relay.http.url}api/jobs`, { method: 'POST', body: 'x'.repeat(70_000) })).status).toBe(413);
      const metrics = await (await fetch(`${relay.http.url}api/metrics`)).json();
      expect(metrics.jobs).toBe(2);
    } finally {
      await host.stop();
      await relay.stop();
    }
  }, 30_000);
});
