/**
 * Which backend trains on this device. WebGPU when a hardware adapter is present; WebAssembly
 * (SIMD) otherwise — including on software adapters (SwiftShader, llvmpipe, WARP), which
 * emulate the GPU on the CPU more slowly than the wasm kernels run there. Pure.
 */
import type { Capabilities } from '../capabilities.ts';

export type TrainingBackend = 'webgpu' | 'wasm';

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|warp/i;

export function chooseTrainingBackend(caps: Capabilities | null): { backend: TrainingBackend; why: string } {
  if (caps?.backend !== 'webgpu') return { backend: 'wasm', why: caps?.reason ?? 'no WebGPU' };
  if (caps.adapter && SOFTWARE_ADAPTER.test(caps.adapter)) return { backend: 'wasm', why: `${caps.adapter} is a software adapter; WebAssembly is faster here` };
  return { backend: 'webgpu', why: `WebGPU on ${caps.adapter ?? 'this GPU'}` };
}

/** `?backend=webgpu|wasm|cpu` in the page URL overrides the choice (for comparing backends). */
export function backendOverride(search: string = globalThis.location?.search ?? ''): 'webgpu' | 'wasm' | 'cpu' | null {
  const b = new URLSearchParams(search).get('backend');
  return b === 'webgpu' || b === 'wasm' || b === 'cpu' ? b : null;
}
