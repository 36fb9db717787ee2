/**
 * Swarmgrad networking: the tensor wire protocol (frame.ts), tensor transport over libp2p
 * streams with backpressure (stream.ts), the simple-peer bulk channel (bulk/), per-link WAN
 * shaping (shaper.ts), and SwarmNode (swarm-node.ts), one libp2p peer API for the browser and
 * Node, with its parts: dial scheduling (dial.ts), data paths and warm-ups (direct.ts),
 * membership (membership.ts), heartbeats and the relay's roster (heartbeats.ts), adaptive
 * discovery (discovery.ts) and the relay connection (relay-link.ts).
 */
export * from './bulk/index.ts';
export * from './constants.ts';
export * from './crc32.ts';
export * from './direct.ts';
export * from './errors.ts';
export * from './frame.ts';
export * from './membership.ts';
export * from './memory.ts';
export * from './shaper.ts';
export * from './stream.ts';
export * from './swarm-node.ts';
