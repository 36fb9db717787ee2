/** Swarmgrad peer core: public API. */
export {};
export * from './codecs/index.ts';
export { WasmBackend, WasmBackendTensor, createWasmBackend, createWasmBackendSync } from './backend/wasm/index.ts';
