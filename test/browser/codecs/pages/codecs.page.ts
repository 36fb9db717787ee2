/**
 * Browser side of the codec kernel tests: runs each WGSL codec on fresh random inputs, runs the
 * CPU codec (peer-core/src/codecs) on the same inputs in the page, and reports whether the
 * payload bytes, decoded values and residuals are bit-identical.
 */
import { GpuContext } from '../../../../gpu-shaders/src/context.ts';
import { efAccumulate, efUpdate, fp16CompressGpu, fp16DecompressGpu, int8CompressGpu, int8DecompressGpu, signCompressGpu, signDecompressGpu, topkCompressGpu } from '../../../../gpu-shaders/src/codecs/index.ts';
import { Fp16Codec, Int8Codec, SignCodec, TopkCodec } from '../../../../peer-core/src/codecs/index.ts';
import { mulberry32, randomNormal } from '../../../../peer-core/src/util/random.ts';

let ctxPromise: Promise<GpuContext> | undefined;
const context = () => (ctxPromise ??= GpuContext.create());

interface Report {
  ok: boolean;
  message: string;
}

function sameBytes(what: string, got: Uint8Array, ref: Uint8Array): Report {
  if (got.length !== ref.length) return { ok: false, message: `${what}: length ${got.length} vs reference ${ref.length}` };
  const bad: number[] = [];
  for (let i = 0; i < got.length; i++) if (got[i] !== ref[i]) bad.push(i);
  return bad.length ? { ok: false, message: `${what}: ${bad.length}/${got.length} bytes differ, first at ${bad.slice(0, 5).map((i) => `[${i}] ${got[i]} vs ${ref[i]}`).join(', ')}` } : { ok: true, message: `${what}: ${got.length} bytes identical` };
}

const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function all(reports: Report[]): Report {
  return { ok: reports.every((r) => r.ok), message: reports.map((r) => r.message).join('; ') };
}

/** Values across many magnitudes (including half-subnormal and beyond-half ranges) and signs. */
function wideRange(n: number, seed: number): Float32Array {
  const base = randomNormal(n, seed);
  const r = mulberry32(seed + 7);
  for (let i = 0; i < n; i++) base[i] *= 10 ** (-9 + 15 * r());
  if (n > 4) {
    base[0] = 1 + 2 ** -11; // tie to even
    base[1] = 65520; // rounds past the largest half: saturates
    base[2] = -0;
    base[3] = 2 ** -25; // exactly half the smallest subnormal
  }
  return base;
}

const api = {
  async adapterInfo() {
    const ctx = await context();
    const i = ctx.adapterInfo;
    return { vendor: i?.vendor, architecture: i?.architecture, description: i?.description };
  },
  async fp16(seed: number, n: number): Promise<Report> {
    const ctx = await context();
    const x = wideRange(n, seed);
    const cpu = new Fp16Codec();
    const ref = cpu.compress(x);
    const got = await fp16CompressGpu(ctx, x);
    const dec = await fp16DecompressGpu(ctx, ref.payload, n);
    return all([sameBytes('fp16 payload', got, ref.payload), sameBytes('fp16 decoded', bytes(dec), bytes(cpu.decompress(ref)))]);
  },
  async int8(seed: number, n: number, blockSize: number): Promise<Report> {
    const ctx = await context();
    const x = randomNormal(n, seed, 2);
    if (n > 300) x.fill(0, 0, Math.min(n, blockSize)); // an all-zero block
    const cpu = new Int8Codec({ blockSize });
    const ref = cpu.compress(x, { seed: seed ^ 0x5bd1e995 });
    const got = await int8CompressGpu(ctx, x, seed ^ 0x5bd1e995, blockSize);
    const dec = await int8DecompressGpu(ctx, ref.payload, n);
    return all([sameBytes('int8 payload', got, ref.payload), sameBytes('int8 decoded', bytes(dec), bytes(cpu.decompress(ref)))]);
  },
  async sign(seed: number, n: number, blockSize: number, steps: number): Promise<Report> {
    const ctx = await context();
    const cpu = new SignCodec({ blockSize });
    let residual: Float32Array | undefined;
    const reports: Report[] = [];
    for (let t = 0; t < steps; t++) {
      const x = randomNormal(n, seed + t);
      const ref = cpu.compress(x, { key: 'w' });
      const got = await signCompressGpu(ctx, x, residual, blockSize);
      residual = got.residual;
      reports.push(sameBytes(`sign step ${t} payload`, got.payload, ref.payload));
      reports.push(sameBytes(`sign step ${t} residual`, bytes(got.residual), bytes(cpu.residual('w') ?? new Float32Array(0))));
      const dec = await signDecompressGpu(ctx, ref.payload, n);
      reports.push(sameBytes(`sign step ${t} decoded`, bytes(dec), bytes(cpu.decompress(ref))));
    }
    return all(reports);
  },
  async topk(seed: number, n: number, fraction: number, steps: number, ties: boolean): Promise<Report> {
    const ctx = await context();
    const cpu = new TopkCodec({ fraction });
    let residual: Float32Array | undefined;
    const reports: Report[] = [];
    for (let t = 0; t < steps; t++) {
      const x = randomNormal(n, seed + t);
      // coarse values force many ties at the threshold (lowest indices must win on both sides)
      if (ties) for (let i = 0; i < n; i++) x[i] = Math.round(x[i] * 2) / 2;
      const ref = cpu.compress(x, { key: 'w' });
      const got = await topkCompressGpu(ctx, x, residual, fraction);
      residual = got.residual;
      reports.push(sameBytes(`topk step ${t} payload`, got.payload, ref.payload));
      reports.push(sameBytes(`topk step ${t} residual`, bytes(got.residual), bytes(cpu.residual('w') ?? new Float32Array(0))));
    }
    return all(reports);
  },
  async ef(seed: number, n: number): Promise<Report> {
    const ctx = await context();
    const x = randomNormal(n, seed);
    const r = randomNormal(n, seed + 1, 0.1);
    const d = randomNormal(n, seed + 2);
    const refP = new Float32Array(n);
    const refR = new Float32Array(n);
    for (let i = 0; i < n; i++) refP[i] = x[i] + r[i];
    for (let i = 0; i < n; i++) refR[i] = refP[i] - d[i];
    const p = ctx.buffer(n * 4);
    await efAccumulate(ctx, { n, x: ctx.buffer(x), residual: ctx.buffer(r), out: p });
    const res = ctx.buffer(n * 4);
    await efUpdate(ctx, { n, p, decoded: ctx.buffer(d), residual: res });
    return all([sameBytes('ef p', bytes(await ctx.readFloat32(p, n)), bytes(refP)), sameBytes('ef residual', bytes(await ctx.readFloat32(res, n)), bytes(refR))]);
  },
  async badInput(): Promise<string> {
    const ctx = await context();
    try {
      await int8CompressGpu(ctx, new Float32Array(8), 1, 6);
      return 'no error';
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
  },
};

declare global {
  interface Window {
    swarmgradCodecs: typeof api;
  }
}
window.swarmgradCodecs = api;
