/** Named errors of the backends. */

/** An op or memory call got tensors or shapes that do not fit; thrown before any work. */
export class BackendInputError extends Error {
  override name = 'BackendInputError';
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
  }
}

/** A tensor of another backend (or a freed tensor) was passed to a backend. */
export class ForeignTensorError extends Error {
  override name = 'ForeignTensorError';
}

/** The requested backend cannot run here (no WebGPU adapter, no WebAssembly, ...). */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

/**
 * Shared input check for every backend: `tensor` must be `dtype` and hold at least `needed`
 * elements for `op`'s argument `arg`. Throws BackendInputError with a message that says which.
 */
export function requireTensor(
  op: string,
  arg: string,
  tensor: { dtype: string; length: number } | null | undefined,
  needed: number,
  dtype: 'f32' | 'i32' = 'f32',
): void {
  if (!tensor) throw new BackendInputError(op, `tensor ${arg} is missing`);
  if (tensor.dtype !== dtype) throw new BackendInputError(op, `tensor ${arg} is ${tensor.dtype}, needs ${dtype}`);
  if (!Number.isInteger(needed) || needed < 0) throw new BackendInputError(op, `bad size ${needed} for ${arg}`);
  if (tensor.length < needed) throw new BackendInputError(op, `tensor ${arg} holds ${tensor.length} elements, needs ${needed}`);
}

/** Shared shape check: every dimension a positive integer. */
export function requireDims(op: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v <= 0) throw new BackendInputError(op, `${k} must be a positive integer, got ${v}`);
  }
}
