/**
 * Swarmgrad CPU kernels in AssemblyScript, compiled to WebAssembly (SIMD) by `npm run build -w wasm`.
 *
 * What this is: the same op set as the plain-TS reference (`@swarmgrad/peer-core/reference`,
 * llm.c style), on raw pointers into one linear memory. Every pointer is a byte offset of a
 * 16-byte-aligned f32 (or i32) tensor that the TS wrapper (`wasm/src/index.ts`) allocated;
 * sizes are element counts. Backward kernels ACCUMULATE (+=) into their gradients, like the reference.
 *
 * What this is NOT: it does no validation (the TS wrapper checks every shape and token id
 * before calling in) and it never allocates (the module is built with the stub runtime and
 * the arena lives in JS). Reductions accumulate in f64 where the reference does so cheaply;
 * matmul accumulates in f32x4 lanes, so it differs from the reference by rounding only.
 */

// ---------------------------------------------------------------------------------------------
// helpers

/** Start of free memory after the static data; the JS arena allocates from here. */
export function heapBase(): usize {
  return __heap_base;
}

/** bytes [p, p+n) = 0 (bulk memory fill: a native memset). */
export function zeroBytes(p: usize, n: usize): void {
  memory.fill(p, 0, n);
}

function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

function ld(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

function st(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

/**
 * c + a*b in f32x4 lanes: a fused multiply-add where the build enables relaxed SIMD (the
 * `kernels-relaxed` variant; fused or not is up to the engine), else a multiply then an add.
 */
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** dot(x[0..n), y[0..n)) in f32x4 lanes with a scalar tail. */
function dot(x: usize, y: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = madd(v128.load(at(x, i)), v128.load(at(y, i)), acc);
  let s = hsum(acc);
  for (; i < n; i++) s += ld(x, i) * ld(y, i);
  return s;
}

/** y[0..n) += alpha * x[0..n) */
function axpy(y: usize, alpha: f32, x: usize, n: i32): void {
  const av = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(y, i), madd(av, v128.load(at(x, i)), v128.load(at(y, i))));
  for (; i < n; i++) st(y, i, ld(y, i) + alpha * ld(x, i));
}

/** returns dot(x, d) over [0, n) and, in the same pass, y += alpha * d. */
function dotAxpy(x: usize, d: usize, y: usize, alpha: f32, n: i32): f32 {
  const av = f32x4.splat(alpha);
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const dv = v128.load(at(d, i));
    acc = madd(v128.load(at(x, i)), dv, acc);
    v128.store(at(y, i), madd(av, dv, v128.load(at(y, i))));
  }
  let s = hsum(acc);
  for (; i < n; i++) {
    s += ld(x, i) * ld(d, i);
    st(y, i, ld(y, i) + alpha * ld(d, i));
  }
  return s;
}

/** y1 += g * x1 and y2 += g * x2 over [0, n), in one pass. */
function axpy2(y1: usize, y2: usize, g: f32, x1: usize, x2: usize, n: i32): void {
  const gv = f32x4.splat(g);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(at(y1, i), madd(gv, v128.load(at(x1, i)), v128.load(at(y1, i))));
    v128.store(at(y2, i), madd(gv, v128.load(at(x2, i)), v128.load(at(y2, i))));
  }
  for (; i < n; i++) {
    st(y1, i, ld(y1, i) + g * ld(x1, i));
    st(y2, i, ld(y2, i) + g * ld(x2, i));
  }
}

/** out[0..n) = a[0..n) + b[0..n) */
function add(out: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(out, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))));
  for (; i < n; i++) st(out, i, ld(a, i) + ld(b, i));
}

/** y[0..n) += x[0..n) */
function addTo(y: usize, x: usize, n: i32): void {
  add(y, y, x, n);
}

/**
 * exp in f32x4 lanes (Cephes expf: reduction by ln2 in two parts, degree-5 polynomial, 2^n by
 * exponent bits); relative error within a few ulp. Inputs are clamped to [-87.3, 88.7], so
 * exp of a very negative x is ~1e-38 instead of a denormal or 0, and nothing overflows.
 */
function expv(x0: v128): v128 {
  const x1 = f32x4.min(f32x4.max(x0, f32x4.splat(-87.33654)), f32x4.splat(88.72283));
  const fx = f32x4.floor(madd(x1, f32x4.splat(<f32>Math.LOG2E), f32x4.splat(0.5)));
  let x = f32x4.sub(x1, f32x4.mul(fx, f32x4.splat(0.693359375)));
  x = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(-2.12194440e-4)));
  const z = f32x4.mul(x, x);
  let y = f32x4.splat(1.9875691500e-4);
  y = madd(y, x, f32x4.splat(1.3981999507e-3));
  y = madd(y, x, f32x4.splat(8.3334519073e-3));
  y = madd(y, x, f32x4.splat(4.1665795894e-2));
  y = madd(y, x, f32x4.splat(1.6666665459e-1));
  y = madd(y, x, f32x4.splat(5.0000001201e-1));
  y = madd(y, z, f32x4.add(x, f32x4.splat(1)));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(fx), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

/** max of x[0..n) (n >= 1). */
function maxOf(x: usize, n: i32): f32 {
  let m = f32x4.splat(-f32.MAX_VALUE);
  let i = 0;
  for (; i + 4 <= n; i += 4) m = f32x4.max(m, v128.load(at(x, i)));
  let r = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  for (; i < n; i++) r = max(r, ld(x, i));
  return r;
}

/** dst[i] = exp(src[i] - shift) for i in [0, n); returns the sum, accumulated in f64. */
function expShiftSum(dst: usize, src: usize, n: i32, shift: f32): f64 {
  const sv = f32x4.splat(shift);
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const e = expv(f32x4.sub(v128.load(at(src, i)), sv));
    v128.store(at(dst, i), e);
    acc = f64x2.add(acc, f64x2.add(f64x2.promote_low_f32x4(e), f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 0, 1))));
  }
  let sum = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) {
    const e = Mathf.exp(ld(src, i) - shift);
    st(dst, i, e);
    sum += <f64>e;
  }
  return sum;
}

/** x[0..n) *= s */
function scaleBy(x: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(at(x, i), f32x4.mul(v128.load(at(x, i)), sv));
  for (; i < n; i++) st(x, i, ld(x, i) * s);
}

// ---------------------------------------------------------------------------------------------
// encoder: out[b,t,:] = wte[inp[b,t],:] + wpe[t,:]

export function encoderForward(out: usize, inp: usize, wte: usize, wpe: usize, B: i32, T: i32, C: i32): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const bt = b * T + t;
      const ix = load<i32>(inp + (<usize>bt << 2));
      add(at(out, bt * C), at(wte, ix * C), at(wpe, t * C), C);
    }
  }
}

export function encoderBackward(dwte: usize, dwpe: usize, dout: usize, inp: usize, B: i32, T: i32, C: i32): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const bt = b * T + t;
      const ix = load<i32>(inp + (<usize>bt << 2));
      const d = at(dout, bt * C);
      addTo(at(dwte, ix * C), d, C);
      addTo(at(dwpe, t * C), d, C);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// layernorm over the last dim C of (N,C), eps 1e-5; saves mean and rstd for backward

export function layernormForward(out: usize, mean: usize, rstd: usize, inp: usize, weight: usize, bias: usize, N: i32, C: i32): void {
  for (let n = 0; n < N; n++) {
    const x = at(inp, n * C);
    let s: f64 = 0;
    for (let i = 0; i < C; i++) s += <f64>ld(x, i);
    const m = s / <f64>C;
    let v: f64 = 0;
    for (let i = 0; i < C; i++) {
      const d = <f64>ld(x, i) - m;
      v += d * d;
    }
    v /= <f64>C;
    const r = 1.0 / Math.sqrt(v + 1e-5);
    const o = at(out, n * C);
    const mf = <f32>m;
    const rf = <f32>r;
    for (let i = 0; i < C; i++) st(o, i, (ld(x, i) - mf) * rf * ld(weight, i) + ld(bias, i));
    st(mean, n, mf);
    st(rstd, n, rf);
  }
}

export function layernormBackward(
  dinp: usize, dweight: usize, dbias: usize, dout: usize, inp: usize, weight: usize, mean: usize, rstd: usize, N: i32, C: i32,
): void {
  for (let n = 0; n < N; n++) {
    const x = at(inp, n * C);
    const d = at(dout, n * C);
    const di = at(dinp, n * C);
    const m = ld(mean, n);
    const r = ld(rstd, n);
    // two reductions: mean(w*dout) and mean(w*dout*norm)
    let dnormMean: f64 = 0;
    let dnormNormMean: f64 = 0;
    for (let i = 0; i < C; i++) {
      const norm = (ld(x, i) - m) * r;
      const dnorm = ld(weight, i) * ld(d, i);
      dnormMean += <f64>dnorm;
      dnormNormMean += <f64>(dnorm * norm);
    }
    const a = <f32>(dnormMean / <f64>C);
    const bm = <f32>(dnormNormMean / <f64>C);
    for (let i = 0; i < C; i++) {
      const norm = (ld(x, i) - m) * r;
      const g = ld(d, i);
      const dnorm = ld(weight, i) * g;
      st(dbias, i, ld(dbias, i) + g);
      st(dweight, i, ld(dweight, i) + norm * g);
      st(di, i, ld(di, i) + (dnorm - a - norm * bm) * r);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// matmul: out (M,N) (=|+=) op(A)·op(B) (+ bias).
// A is (M,K) or (K,M) when transA; B is (K,N) or (N,K) when transB (row-major storage).
// op(B) is first packed into `packed` as panels of NR=8 columns ([panel][k][8], zero padded,
// K*ceil(N/8)*8 floats), so the micro-kernel streams B contiguously; when transA, A is first
// transposed into the scratch right after the panels (M*K more floats), so the micro-kernel
// always reads A row-major (a stride of M per k step thrashes the cache when M is a power of 2). The loops are blocked over
// K (KC) and M (MC) so that an A block and a B panel stay in cache; the 4x8 micro-kernel keeps
// 8 f32x4 accumulators in registers.

const KC: i32 = 256;
const MC: i32 = 64;
const TMP: usize = memory.data(128, 16);

export function packB(packed: usize, b: usize, K: i32, N: i32, transB: i32): void {
  const panels = (N + 7) >> 3;
  if (!transB) {
    // B is (K,N) row-major: copy 16-row strips so the reads stay within a few rows (a
    // panel-at-a-time walk down a power-of-two-wide B thrashes the cache sets)
    for (let k0 = 0; k0 < K; k0 += 16) {
      const k1 = min(k0 + 16, K);
      for (let p = 0; p < panels; p++) {
        const n0 = p << 3;
        const dst = at(packed, p * K * 8);
        if (n0 + 8 <= N) {
          for (let k = k0; k < k1; k++) {
            const row = at(dst, k * 8);
            v128.store(row, v128.load(at(b, k * N + n0)));
            v128.store(row, v128.load(at(b, k * N + n0 + 4)), 16);
          }
        } else {
          for (let k = k0; k < k1; k++) {
            const row = at(dst, k * 8);
            for (let j = 0; j < 8; j++) st(row, j, n0 + j < N ? ld(b, k * N + n0 + j) : 0);
          }
        }
      }
    }
    return;
  }
  // B is stored (N,K): each panel reads 8 rows of B, each sequentially in k
  for (let p = 0; p < panels; p++) {
    const n0 = p << 3;
    const dst = at(packed, p * K * 8);
    for (let j = 0; j < 8; j++) {
      const n = n0 + j;
      if (n < N) for (let k = 0; k < K; k++) st(dst, k * 8 + j, ld(b, n * K + k));
      else for (let k = 0; k < K; k++) st(dst, k * 8 + j, 0);
    }
  }
}

/** at (M,K) = transpose of a stored (K,M), in 16x16 tiles (cache-friendly for any stride). */
export function transposeInto(dst: usize, a: usize, M: i32, K: i32): void {
  for (let k0 = 0; k0 < K; k0 += 16) {
    const k1 = min(k0 + 16, K);
    for (let i0 = 0; i0 < M; i0 += 16) {
      const i1 = min(i0 + 16, M);
      for (let k = k0; k < k1; k++) for (let i = i0; i < i1; i++) st(dst, i * K + k, ld(a, k * M + i));
    }
  }
}

/** C[0..4, 0..ncols) += A[0..4, 0..kc) · Bpanel[0..kc, 0..8); A(i,k) at a + (i*sam + k*sak). */
function kernel4x8(c: usize, ldc: i32, a: usize, sam: i32, sak: i32, bp: usize, kc: i32, ncols: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a0 = a;
  const rs = <usize>sam << 2;
  const step = <usize>sak << 2;
  let bptr = bp;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bptr);
    const b1 = v128.load(bptr, 16);
    let av = f32x4.splat(load<f32>(a0));
    c00 = madd(av, b0, c00);
    c01 = madd(av, b1, c01);
    av = f32x4.splat(load<f32>(a0 + rs));
    c10 = madd(av, b0, c10);
    c11 = madd(av, b1, c11);
    av = f32x4.splat(load<f32>(a0 + 2 * rs));
    c20 = madd(av, b0, c20);
    c21 = madd(av, b1, c21);
    av = f32x4.splat(load<f32>(a0 + 3 * rs));
    c30 = madd(av, b0, c30);
    c31 = madd(av, b1, c31);
    a0 += step;
    bptr += 32;
  }
  const rowBytes = <usize>ldc << 2;
  if (ncols === 8) {
    let r = c;
    v128.store(r, f32x4.add(v128.load(r), c00));
    v128.store(r, f32x4.add(v128.load(r, 16), c01), 16);
    r += rowBytes;
    v128.store(r, f32x4.add(v128.load(r), c10));
    v128.store(r, f32x4.add(v128.load(r, 16), c11), 16);
    r += rowBytes;
    v128.store(r, f32x4.add(v128.load(r), c20));
    v128.store(r, f32x4.add(v128.load(r, 16), c21), 16);
    r += rowBytes;
    v128.store(r, f32x4.add(v128.load(r), c30));
    v128.store(r, f32x4.add(v128.load(r, 16), c31), 16);
  } else {
    storePartial(c, c00, c01, ncols);
    storePartial(c + rowBytes, c10, c11, ncols);
    storePartial(c + 2 * rowBytes, c20, c21, ncols);
    storePartial(c + 3 * rowBytes, c30, c31, ncols);
  }
}

function kernel1x8(c: usize, a: usize, sak: i32, bp: usize, kc: i32, ncols: i32): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let a0 = a;
  const step = <usize>sak << 2;
  let bptr = bp;
  for (let k = 0; k < kc; k++) {
    const av = f32x4.splat(load<f32>(a0));
    c0 = madd(av, v128.load(bptr), c0);
    c1 = madd(av, v128.load(bptr, 16), c1);
    a0 += step;
    bptr += 32;
  }
  if (ncols === 8) {
    v128.store(c, f32x4.add(v128.load(c), c0));
    v128.store(c, f32x4.add(v128.load(c, 16), c1), 16);
  } else {
    storePartial(c, c0, c1, ncols);
  }
}

function storePartial(c: usize, v0: v128, v1: v128, ncols: i32): void {
  v128.store(TMP, v0);
  v128.store(TMP, v1, 16);
  for (let j = 0; j < ncols; j++) st(c, j, ld(c, j) + ld(TMP, j));
}

export function matmulForward(
  out: usize, a: usize, b: usize, bias: usize, packed: usize, M: i32, K: i32, N: i32, transA: i32, transB: i32, accumulate: i32,
): void {
  // initialise C with bias (or 0), or add bias to it when accumulating
  for (let m = 0; m < M; m++) {
    const row = at(out, m * N);
    if (accumulate) {
      if (bias) addTo(row, bias, N);
    } else if (bias) {
      memory.copy(row, bias, <usize>N << 2);
    } else {
      memory.fill(row, 0, <usize>N << 2);
    }
  }
  if (K === 0) return;
  packB(packed, b, K, N, transB);
  const panels = (N + 7) >> 3;
  if (transA) {
    const aT = at(packed, panels * 8 * K);
    transposeInto(aT, a, M, K);
    a = aT;
  }
  const sam = K;
  const sak = 1;
  for (let kb = 0; kb < K; kb += KC) {
    const kc = min(KC, K - kb);
    for (let ib = 0; ib < M; ib += MC) {
      const iend = min(ib + MC, M);
      for (let p = 0; p < panels; p++) {
        const n0 = p << 3;
        const ncols = min(8, N - n0);
        const bp = at(packed, (p * K + kb) * 8);
        let i = ib;
        for (; i + 4 <= iend; i += 4) kernel4x8(at(out, i * N + n0), N, at(a, i * sam + kb * sak), sam, sak, bp, kc, ncols);
        for (; i < iend; i++) kernel1x8(at(out, i * N + n0), at(a, i * sam + kb * sak), sak, bp, kc, ncols);
      }
    }
  }
}

/** dbias[n] += sum_m dout[m,n] */
export function biasBackward(dbias: usize, dout: usize, M: i32, N: i32): void {
  for (let m = 0; m < M; m++) addTo(dbias, at(dout, m * N), N);
}

// ---------------------------------------------------------------------------------------------
// causal multi-head self-attention, llm.c layout: qkv (B,T,3C) = [q | k | v], heads of size
// hs = C/NH; preatt, att (B,NH,T,T) hold the scaled scores and the softmax for t2 <= t (att is
// zero above the diagonal, and so is preatt, as in the reference).

export function attentionForward(out: usize, preatt: usize, att: usize, qkv: usize, B: i32, T: i32, C: i32, NH: i32): void {
  const C3 = C * 3;
  const hs = C / NH;
  const scale = <f32>(1.0 / Math.sqrt(<f64>hs));
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NH; h++) {
        const q = at(qkv, b * T * C3 + t * C3 + h * hs);
        const pre = at(preatt, ((b * NH + h) * T + t) * T);
        const w = at(att, ((b * NH + h) * T + t) * T);
        let maxval: f32 = -f32.MAX_VALUE;
        for (let t2 = 0; t2 <= t; t2++) {
          const k = at(qkv, b * T * C3 + t2 * C3 + h * hs + C);
          const v = dot(q, k, hs) * scale;
          if (v > maxval) maxval = v;
          st(pre, t2, v);
        }
        const sum = expShiftSum(w, pre, t + 1, maxval);
        scaleBy(w, t + 1, sum === 0 ? <f32>0 : <f32>(1.0 / sum));
        if (t + 1 < T) {
          memory.fill(at(w, t + 1), 0, <usize>(T - t - 1) << 2);
          memory.fill(at(pre, t + 1), 0, <usize>(T - t - 1) << 2);
        }
        const o = at(out, b * T * C + t * C + h * hs);
        memory.fill(o, 0, <usize>hs << 2);
        for (let t2 = 0; t2 <= t; t2++) axpy(o, ld(w, t2), at(qkv, b * T * C3 + t2 * C3 + h * hs + 2 * C), hs);
      }
    }
  }
}

export function attentionBackward(
  dqkv: usize, dpreatt: usize, datt: usize, dout: usize, qkv: usize, att: usize, B: i32, T: i32, C: i32, NH: i32,
): void {
  const C3 = C * 3;
  const hs = C / NH;
  const scale = <f32>(1.0 / Math.sqrt(<f64>hs));
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NH; h++) {
        const w = at(att, ((b * NH + h) * T + t) * T);
        const dw = at(datt, ((b * NH + h) * T + t) * T);
        const dpre = at(dpreatt, ((b * NH + h) * T + t) * T);
        const q = at(qkv, b * T * C3 + t * C3 + h * hs);
        const dq = at(dqkv, b * T * C3 + t * C3 + h * hs);
        const d = at(dout, b * T * C + t * C + h * hs);
        // through out = att · v
        for (let t2 = 0; t2 <= t; t2++) {
          const off = b * T * C3 + t2 * C3 + h * hs + 2 * C;
          st(dw, t2, ld(dw, t2) + dotAxpy(at(qkv, off), d, at(dqkv, off), ld(w, t2), hs));
        }
        // through the softmax: dpre[t3] += att[t3] * (datt[t3] - sum_t2 att[t2]*datt[t2])
        let s: f64 = 0;
        for (let t2 = 0; t2 <= t; t2++) s += <f64>(ld(w, t2) * ld(dw, t2));
        const sf = <f32>s;
        for (let t3 = 0; t3 <= t; t3++) st(dpre, t3, ld(dpre, t3) + ld(w, t3) * (ld(dw, t3) - sf));
        // through preatt = scale * q·k
        for (let t2 = 0; t2 <= t; t2++) {
          const off = b * T * C3 + t2 * C3 + h * hs + C;
          axpy2(dq, at(dqkv, off), ld(dpre, t2) * scale, at(qkv, off), q, hs);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GELU (tanh form), residual

// 0.5*(1 + tanh(u)) = sigmoid(2u), so gelu(x) = x * sigmoid(2u) with u = S*(x + 0.044715 x^3):
// one exp instead of a tanh (which costs an expm1 and branches), and exact in real arithmetic.
// The backward uses tanh(u) = 2s - 1 and sech^2(u) = 1 - tanh^2(u) = 4 s (1 - s).
const GELU_S: f32 = <f32>Math.sqrt(2.0 / Math.PI);

export function geluForward(out: usize, inp: usize, N: i32): void {
  const S = f32x4.splat(GELU_S);
  const A = f32x4.splat(0.044715);
  const one = f32x4.splat(1);
  const m2 = f32x4.splat(-2);
  let i = 0;
  for (; i + 4 <= N; i += 4) {
    const x = v128.load(at(inp, i));
    const u = f32x4.mul(S, madd(f32x4.mul(A, x), f32x4.mul(x, x), x));
    v128.store(at(out, i), f32x4.div(x, f32x4.add(one, expv(f32x4.mul(m2, u)))));
  }
  for (; i < N; i++) {
    const x = ld(inp, i);
    const u = GELU_S * (x + <f32>0.044715 * x * x * x);
    st(out, i, x / (1 + Mathf.exp(-2 * u)));
  }
}

export function geluBackward(dinp: usize, inp: usize, dout: usize, N: i32): void {
  const S = f32x4.splat(GELU_S);
  const A = f32x4.splat(0.044715);
  const A3 = f32x4.splat(3 * 0.044715);
  const one = f32x4.splat(1);
  const two = f32x4.splat(2);
  const m2 = f32x4.splat(-2);
  let i = 0;
  for (; i + 4 <= N; i += 4) {
    const x = v128.load(at(inp, i));
    const x2 = f32x4.mul(x, x);
    const u = f32x4.mul(S, madd(f32x4.mul(A, x), x2, x));
    const s = f32x4.div(one, f32x4.add(one, expv(f32x4.mul(m2, u))));
    // local = s + 2 x s (1 - s) S (1 + 3A x^2)
    const t = f32x4.mul(f32x4.mul(two, x), f32x4.mul(s, f32x4.sub(one, s)));
    const local = madd(t, f32x4.mul(S, madd(A3, x2, one)), s);
    v128.store(at(dinp, i), madd(local, v128.load(at(dout, i)), v128.load(at(dinp, i))));
  }
  for (; i < N; i++) {
    const x = ld(inp, i);
    const u = GELU_S * (x + <f32>0.044715 * x * x * x);
    const s: f32 = 1 / (1 + Mathf.exp(-2 * u));
    const local: f32 = s + 2 * x * s * (1 - s) * GELU_S * (1 + 3 * <f32>0.044715 * x * x);
    st(dinp, i, ld(dinp, i) + local * ld(dout, i));
  }
}

export function residualForward(out: usize, a: usize, b: usize, N: i32): void {
  add(out, a, b, N);
}

export function residualBackward(da: usize, db: usize, dout: usize, N: i32): void {
  addTo(da, dout, N);
  addTo(db, dout, N);
}

// ---------------------------------------------------------------------------------------------
// softmax + cross-entropy over V classes for N rows; a negative target (ignore_index) gives
// loss 0 and no gradient. The loss is log-sum-exp minus the target logit (no log of a tiny p).

export function softmaxCrossEntropyForward(losses: usize, probs: usize, logits: usize, targets: usize, N: i32, V: i32): void {
  for (let n = 0; n < N; n++) {
    const x = at(logits, n * V);
    const p = at(probs, n * V);
    const maxval = maxOf(x, V);
    const sum = expShiftSum(p, x, V, maxval);
    scaleBy(p, V, <f32>(1.0 / sum));
    const tgt = load<i32>(targets + (<usize>n << 2));
    st(losses, n, tgt < 0 ? 0 : <f32>(Math.log(sum) + <f64>maxval - <f64>ld(x, tgt)));
  }
}

export function softmaxCrossEntropyBackward(dlogits: usize, dlosses: usize, probs: usize, targets: usize, N: i32, V: i32): void {
  for (let n = 0; n < N; n++) {
    const tgt = load<i32>(targets + (<usize>n << 2));
    if (tgt < 0) continue;
    const dl = ld(dlosses, n);
    const p = at(probs, n * V);
    const d = at(dlogits, n * V);
    axpy(d, dl, p, V);
    st(d, tgt, ld(d, tgt) - dl);
  }
}

// ---------------------------------------------------------------------------------------------
// optimizers

export function globalNormSquared(grads: usize, N: i32): f64 {
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= N; i += 4) {
    const v = v128.load(at(grads, i));
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    acc = f64x2.add(acc, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < N; i++) {
    const g = <f64>ld(grads, i);
    s += g * g;
  }
  return s;
}

/** AdamW (decoupled weight decay, bias-corrected moments); grads are scaled by gradScale first. */
export function adamwUpdate(
  params: usize, grads: usize, m: usize, v: usize, N: i32,
  lr: f32, beta1: f32, beta2: f32, eps: f32, weightDecay: f32, step: i32, gradScale: f32,
): void {
  const bc1 = <f32>(1.0 - (<f64>beta1) ** (<f64>step));
  const bc2 = <f32>(1.0 - (<f64>beta2) ** (<f64>step));
  for (let i = 0; i < N; i++) {
    const g = ld(grads, i) * gradScale;
    const mi = beta1 * ld(m, i) + (1 - beta1) * g;
    const vi = beta2 * ld(v, i) + (1 - beta2) * g * g;
    st(m, i, mi);
    st(v, i, vi);
    const p = ld(params, i);
    st(params, i, p - lr * ((mi / bc1) / (Mathf.sqrt(vi / bc2) + eps) + weightDecay * p));
  }
}

/** SGD with momentum: vel = momentum*vel + (g*gradScale + wd*p); p -= lr*vel. */
export function sgdMomentumUpdate(params: usize, grads: usize, velocity: usize, N: i32, lr: f32, momentum: f32, weightDecay: f32, gradScale: f32): void {
  for (let i = 0; i < N; i++) {
    const p = ld(params, i);
    const g = ld(grads, i) * gradScale + weightDecay * p;
    const vel = momentum * ld(velocity, i) + g;
    st(velocity, i, vel);
    st(params, i, p - lr * vel);
  }
}
