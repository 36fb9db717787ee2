/** Named errors of the WebGPU kernels. GPU errors are thrown, never swallowed. */

export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';
}

/** A WGSL module or pipeline failed validation; the message carries the compiler's lines. */
export class ShaderCompileError extends Error {
  override name = 'ShaderCompileError';
  constructor(
    readonly kernel: string,
    details: string,
  ) {
    super(`WGSL kernel '${kernel}' failed to compile:\n${details}`);
  }
}

/** A kernel was called with shapes or buffers that do not fit; thrown before any GPU work. */
export class KernelInputError extends Error {
  override name = 'KernelInputError';
  constructor(kernel: string, message: string) {
    super(`${kernel}: ${message}`);
  }
}

/** An error scope around GPU work reported a validation or out-of-memory error. */
export class GpuOperationError extends Error {
  override name = 'GpuOperationError';
}
