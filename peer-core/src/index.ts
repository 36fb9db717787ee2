/** Swarmgrad peer core: public API. */
export {};
export * from './codecs/index.ts';
export { WasmBackend, WasmBackendTensor, createWasmBackend, createWasmBackendSync } from './backend/wasm/index.ts';
export * as net from './net/index.ts';
export { SwarmNode, createSwarmNode, fetchRelayInfo, type SwarmNodeInit, type CapabilityRecord, type WireTensor } from './net/index.ts';
export * as gossip from './gossip/index.ts';
export * as job from './job/index.ts';
