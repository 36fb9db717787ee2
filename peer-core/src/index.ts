/** Swarmgrad peer core: public API. */
export {};
export * from './backend/index.ts';
export * from './model/index.ts';
export * from './train/index.ts';
export * from './checkpoint/index.ts';
export * from './tokenizer/index.ts';
export * from './data/index.ts';
export * from './codecs/index.ts';
export { WasmBackend, WasmBackendTensor, createWasmBackend, createWasmBackendSync } from './backend/wasm/index.ts';
export * as net from './net/index.ts';
export { SwarmNode, createSwarmNode, fetchRelayInfo, type SwarmNodeInit, type CapabilityRecord, type WireTensor } from './net/index.ts';
export * as gossip from './gossip/index.ts';
export * as job from './job/index.ts';
export * as scheduler from './scheduler/index.ts';
export * as runtime from './runtime/index.ts';
export { fnv1a32 } from './util/hash.ts';
