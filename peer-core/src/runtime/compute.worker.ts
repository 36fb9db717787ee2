/**
 * Web Worker entry of WorkerCompute (compute.ts): a PeerRuntime's model, optimizer and backend
 * off the page's main thread. Bundle it as its own script and pass `new Worker(url, {type:
 * 'module'})` to `new WorkerCompute({ port })`.
 */
import type { Backend } from '../backend/types.ts';
import { type ComputeBackendName, serveCompute } from './compute.ts';

async function createBackend(name: ComputeBackendName): Promise<Backend> {
  switch (name) {
    case 'wasm':
      return (await import('../backend/wasm/index.ts')).createWasmBackend();
    case 'cpu':
      return (await import('../backend/cpu/index.ts')).createCpuBackend();
    case 'webgpu':
      return (await import('../backend/webgpu/index.ts')).createWebGpuBackend();
  }
}

serveCompute(self as unknown as Parameters<typeof serveCompute>[0], createBackend);
