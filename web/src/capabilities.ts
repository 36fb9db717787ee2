/** What this browser can contribute: WebGPU adapter info, or the WASM fallback. */
export interface Capabilities {
  backend: 'webgpu' | 'wasm';
  adapter?: string;
  reason?: string;
}

export async function detectCapabilities(nav: Navigator | undefined = globalThis.navigator): Promise<Capabilities> {
  const gpu = nav?.gpu;
  if (!gpu) return { backend: 'wasm', reason: 'This browser has no WebGPU (navigator.gpu is missing).' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { backend: 'wasm', reason: 'WebGPU is present but no GPU adapter is available.' };
    const i = adapter.info;
    return { backend: 'webgpu', adapter: [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || 'unknown adapter' };
  } catch (e) {
    return { backend: 'wasm', reason: `WebGPU adapter request failed: ${(e as Error).message}` };
  }
}
