/** Named errors of the WASM kernels package. */

/** A kernel was called with a bad shape, a too-small or freed tensor, or an out-of-range id. */
export class WasmKernelInputError extends Error {
  override name = 'WasmKernelInputError';
}

/** The linear memory could not grow to hold a new tensor. */
export class WasmOutOfMemoryError extends Error {
  override name = 'WasmOutOfMemoryError';
}

/** This WebAssembly engine cannot run the kernels (no SIMD, or not the requested variant). */
export class WasmUnsupportedError extends Error {
  override name = 'WasmUnsupportedError';
}
