/**
 * Decentralized data-parallel averaging: topologies + Metropolis–Hastings weights, the
 * allreduce baseline, D-PSGD, CHOCO-SGD and AD-PSGD over an abstract GossipTransport, with an
 * in-memory transport (fault injection) and a virtual-time simulator for tests and benchmarks.
 * See docs/GOSSIP.md.
 */
export * from './errors.ts';
export * from './constants.ts';
export * from './clock.ts';
export * from './frame.ts';
export * from './ledger.ts';
export * from './transport.ts';
export * from './memory.ts';
export * from './topology.ts';
export * from './base.ts';
export { AllReduce } from './allreduce.ts';
export { Dpsgd } from './dpsgd.ts';
export { Choco, type ChocoInit, FLAG_FULL } from './choco.ts';
export { Adpsgd, type AdpsgdInit } from './adpsgd.ts';
export * from './join.ts';
export * from './problems.ts';
export * from './sim.ts';
export * from './swarm.ts';
