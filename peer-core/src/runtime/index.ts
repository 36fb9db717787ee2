/**
 * Peer runtime: one job's training loop on one peer over the real swarm (or an in-memory one).
 *
 *   const node = await createSwarmNode({ relay });
 *   const rt = createSwarmRuntime({ node, jobId, spec });      // spec: a validated JobSpec
 *   rt.on('step', (e) => ...); rt.on('eval', (e) => ...);
 *   const summary = await rt.start();                          // pause() / resume() / stop()
 *
 * See docs/TRAINING-SWARM.md. Pieces: transport.ts (GossipTransport + job roster over SwarmNode,
 * and an in-memory one for tests), runtime.ts (PeerRuntime), data.ts (shards), jobs.ts (signed
 * job announcements on gossipsub, the relay's /api/jobs), compute.ts (the model and optimizer, on
 * this thread or in a Web Worker: compute.worker.ts).
 */
import type { SwarmNode } from '../net/swarm-node.ts';
import { PeerRuntime, type PeerRuntimeInit } from './runtime.ts';
import { SwarmTransport, type SwarmTransportInit } from './transport.ts';

export * from './constants.ts';
export * from './errors.ts';
export * from './transport.ts';
export * from './data.ts';
export * from './runtime.ts';
export * from './compute.ts';
export * from './jobs.ts';

export interface SwarmRuntimeInit extends Omit<PeerRuntimeInit, 'transport'>, Omit<SwarmTransportInit, 'node' | 'jobId'> {
  node: SwarmNode;
  jobId: string;
}

/** A PeerRuntime over a SwarmTransport on `node`; the transport closes when the run ends. */
export function createSwarmRuntime(init: SwarmRuntimeInit): PeerRuntime {
  const transport = new SwarmTransport({ node: init.node, jobId: init.jobId, allowRelayed: init.allowRelayed, sendTimeoutMs: init.sendTimeoutMs, rosterPollMs: init.rosterPollMs });
  const rt = new PeerRuntime({ ...init, transport });
  rt.addEventListener('done', () => transport.close());
  rt.addEventListener('error', () => transport.close());
  return rt;
}
