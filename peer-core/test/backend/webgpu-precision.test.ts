/**
 * The webgpu backend's `matmulPrecision` option without a GPU: 'tensor-core' on a device that
 * lacks subgroup matrices / shader-f16 throws TensorCoreUnavailableError at creation (no silent
 * fallback to fp32), an unknown precision throws BackendInputError, and a device with the
 * features gets the option. Plus the routing of the mixed-precision products at GPT-2 shapes.
 * The numerics need subgroup matrices (bench/gpu/train-check.ts on a GPU).
 */
import { matmulTcSlices, planMatmulBackwardMixed, routeMatmulMixed, splitKSlice, type SubgroupMatrixConfig, validateMatmulTc } from '@swarmgrad/gpu-shaders';
import { describe, expect, it } from 'vitest';
import { BackendInputError } from '../../src/backend/errors.ts';
import { createWebGpuBackend, TensorCoreUnavailableError } from '../../src/backend/webgpu/index.ts';
import type { GpuContext } from '@swarmgrad/gpu-shaders';

/** Stand-in for a GPUBuffer: validation only reads its size. */
const buf = (floats: number) => ({ size: floats * 4, mapState: 'unmapped' }) as unknown as GPUBuffer;
const args = (M: number, K: number, N: number) => ({ M, K, N, a: buf(M * K), b: buf(K * N), out: buf(M * N) });

const F16_F32_16: SubgroupMatrixConfig = { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 };

/** A context-shaped object: features, subgroup-matrix configs and sizes; no GPU work allowed. */
function fakeCtx(features: string[], configs: SubgroupMatrixConfig[] = [F16_F32_16]): GpuContext {
  const adapterInfo = { vendor: 'fake', subgroupMinSize: 32, subgroupMaxSize: 32, subgroupMatrixConfigs: configs } as unknown as GPUAdapterInfo;
  const device = {
    limits: { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupStorageSize: 49152 },
    createCommandEncoder() {
      throw new Error('no GPU work expected');
    },
  } as unknown as GPUDevice;
  return { features: new Set(features), adapterInfo, device } as unknown as GpuContext;
}

describe('webgpu backend matmulPrecision', () => {
  it("throws TensorCoreUnavailableError for 'tensor-core' on a device without the features, naming them", async () => {
    const ctx = fakeCtx(['subgroups', 'timestamp-query']);
    const attempt = createWebGpuBackend({ context: ctx, matmulPrecision: 'tensor-core' });
    await expect(attempt).rejects.toThrow(TensorCoreUnavailableError);
    await expect(createWebGpuBackend({ context: ctx, matmulPrecision: 'tensor-core' })).rejects.toThrow(/chromium-experimental-subgroup-matrix/);
    // Features present but no f16 -> f32 16x16x16 config: still refused.
    const noConfig = fakeCtx(['chromium-experimental-subgroup-matrix', 'shader-f16'], [{ ...F16_F32_16, resultComponentType: 'f16' }]);
    await expect(createWebGpuBackend({ context: noConfig, matmulPrecision: 'tensor-core' })).rejects.toThrow(TensorCoreUnavailableError);
  });

  it("defaults to 'fp32' on any device, and accepts 'tensor-core' where the device has it", async () => {
    const plain = await createWebGpuBackend({ context: fakeCtx([]) });
    expect(plain.matmulPrecision).toBe('fp32');
    const tc = await createWebGpuBackend({ context: fakeCtx(['chromium-experimental-subgroup-matrix', 'shader-f16']), matmulPrecision: 'tensor-core' });
    expect(tc.matmulPrecision).toBe('tensor-core');
  });

  it('rejects an unknown precision with BackendInputError', async () => {
    await expect(createWebGpuBackend({ context: fakeCtx([]), matmulPrecision: 'bf16' as never })).rejects.toThrow(BackendInputError);
  });
});

describe('mixed-precision routing at GPT-2 124M shapes (B*T = 8192, C = 768, V = 50257)', () => {
  const [BT, C, V] = [8192, 768, 50257];

  it('sends every block product, forward and backward, to the tensor cores', () => {
    for (const [K, N] of [
      [C, 3 * C],
      [C, C],
      [C, 4 * C],
      [4 * C, C],
    ]) {
      expect(routeMatmulMixed({ M: BT, K: K!, N: N! })).toBe('tensor-core');
      expect(planMatmulBackwardMixed({ M: BT, K: K!, N: N! }, { da: true, db: true })).toEqual({ da: 'tensor-core', db: 'tensor-core', Np: N });
    }
  });

  it('runs the LM head forward as is and its backward on vocabulary-padded copies', () => {
    expect(routeMatmulMixed({ M: BT, K: C, N: V, transB: true })).toBe('tensor-core');
    const plan = planMatmulBackwardMixed({ M: BT, K: C, N: V, transB: true }, { da: true, db: true });
    expect(plan).toEqual({ da: 'tensor-core-padded', db: 'tensor-core-padded', Np: Math.ceil(V / 4) * 4 });
    expect(plan.Np % 4).toBe(0);
    expect(plan.Np - V).toBeLessThan(4);
  });

  it('splits only the long-K backward products with few workgroups (the weight gradients)', () => {
    // dW of fc (768×3072 over K = 8192): 144 tc128 workgroups -> 4 slices of 2048.
    expect(splitKSlice({ M: C, K: BT, N: 4 * C, transA: true }, 'tc128')).toBe(2048);
    // dW of attn proj (768×768): 144 tc64 workgroups -> 4 slices.
    expect(splitKSlice({ M: C, K: BT, N: C, transA: true }, 'tc64')).toBe(2048);
    // dX products (8192×768 over K = 3072, 384 tc128 workgroups) and the head's dW (50260 rows): none.
    expect(splitKSlice({ M: BT, K: 4 * C, N: C, transB: true }, 'tc128')).toBeUndefined();
    expect(splitKSlice({ M: 50260, K: BT, N: C, transA: true }, 'tc128')).toBeUndefined();
    // Short K: none.
    expect(splitKSlice({ M: 64, K: 1024, N: 64, transA: true }, 'tc64')).toBeUndefined();
    const ks = splitKSlice({ M: 100, K: 5000, N: 100, transA: true }, 'tc64');
    expect(ks! % 32).toBe(0);
    expect(matmulTcSlices({ K: 5000, kSlice: ks })).toBeGreaterThan(1);
    expect(() => validateMatmulTc({ ...args(64, 256, 64), kSlice: 48 })).toThrow(/multiple of 32/);
    // The output must hold every slice.
    expect(() => validateMatmulTc({ ...args(64, 256, 64), kSlice: 64 })).toThrow(/buffer out/);
    expect(() => validateMatmulTc({ ...args(64, 256, 64), out: buf(4 * 64 * 64), kSlice: 64 })).not.toThrow();
  });

  it('keeps on fp32 what padding N cannot fix, and skips unwanted gradients', () => {
    // A's rows of K = 50 floats: not vec4-able, so neither forward nor dB goes to tensor cores.
    expect(routeMatmulMixed({ M: 64, K: 50, N: 64 })).toBe('fp32');
    expect(planMatmulBackwardMixed({ M: 64, K: 50, N: 64 }, { da: true, db: true })).toMatchObject({ da: 'tensor-core', db: 'fp32' });
    expect(planMatmulBackwardMixed({ M: 64, K: 50, N: 64, transB: true }, { da: true, db: false })).toMatchObject({ da: 'fp32', db: null });
  });
});
