// matmul_blocked_any: the register-blocked matmul of matmul_blocked.wgsl for any shape.
// out (M,N) = A·B (+ bias), optionally accumulated into out; A is (M,K) or (K,M) when TRANS_A,
// B is (K,N) or (N,K) when TRANS_B.
//
// Same tiling, thread layout, prefetch and workgroup-memory staging as matmul_blocked.wgsl
// (read that file first); the difference is that every operand is read and written through
// small access functions (ldA4/ldA1, ldB4/ldB1, ldBias4/ldBias1, ldO4/ldO1, stO4/stO1) that
// this file does not define: the wrapper (matmul.ts, `anyBindings`) prepends, per operand,
// either a vec4-array binding (where the operand's offset and row stride are multiples of 4
// and its binding a multiple of 16 bytes, so every aligned group of 4 is one vec4) or a
// scalar-array binding (4 scalar loads). So the vocabulary-sized products of an LM head
// (V = 50257: only the V-strided operand is unaligned) keep vec4 loads and stores for the
// aligned operands. Edges along M, N and K are handled element by element.

override BM: u32 = 128u;
override BN: u32 = 128u;
override BK: u32 = 8u;
override WG: u32 = 256u; // (BM/8)*(BN/8)
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
// Set by the wrapper when out is bound as a vec4 array: whole groups of 4 are stored as one
// vec4. Otherwise every output is stored element by element (4 scalar loads and stores per
// group through stO4 measured ~10x slower in accumulate mode on an H200).
override OUT_VEC4: bool = false;
// Set by the wrapper when A (B) is bound as vec4 and its contiguous dimension is a multiple of
// 4: every group of 4 is then wholly inside or outside, so loads check once, as in
// matmul_blocked.wgsl, with no element-wise edge path.
override A_WHOLE: bool = false;
override B_WHOLE: bool = false;
// Causal structure of attention products (rows m and columns n or k index positions):
// 0 none; 1 skip output tiles entirely above the diagonal (n > m everywhere: masked scores the
// softmax overwrites); 2 stop K at the tile's last row (A is zero for k > m); 3 start K at the
// tile's first row (A is zero for k < m). Skipped terms are zeros of A, so results are exact.
override CAUSAL: u32 = 0u;

// Loads per thread per K step: A tile BM*BK/4 vec4s, B tile BK*BN/4 vec4s, spread over WG
// threads; at most 4 each (the wrapper's tile configurations respect this).
override LOADS_A: u32 = 1u;
override LOADS_B: u32 = 1u;

// Batched and strided: workgroup z runs product z of a batch, whose operands start at
// base(z) = off + (z / inner) * outer + (z % inner) * innerStride elements (e.g. z = b*NH + h over the
// heads of an attention layer); rows are lda / ldb / ldo elements apart. A plain matmul has
// one product, zero bases and lda = K (or M), ldb = N (or K), ldo = N. out = alpha * A·B (+ bias).
struct Dims {
  M: u32, K: u32, N: u32, inner: u32,
  lda: u32, ldb: u32, ldo: u32, alpha: f32,
  aOuter: u32, aInner: u32, bOuter: u32, bInner: u32,
  oOuter: u32, oInner: u32, aOff: u32, bOff: u32,
  oOff: u32, _a: u32, _b: u32, _c: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
// Bindings 1..4 (a, b, bias, out) and their access functions are prepended by the wrapper.

var<private> aBase: u32;
var<private> bBase: u32;

var<workgroup> As: array<vec4<f32>, BK * BM / 4u>; // As[k][m]: A^T tile, m contiguous
var<workgroup> Bs: array<vec4<f32>, BK * BN / 4u>; // Bs[k][n]

// The i-th vec4 of the A tile at (m0, k0), gathered element by element (0 outside).
fn loadA(i: u32, m0: u32, k0: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (A_WHOLE) {
    if (TRANS_A) {
      let k = k0 + i / (BM / 4u);
      let m = m0 + (i % (BM / 4u)) * 4u;
      if (k < dims.K && m < dims.M) { v = ldA4(aBase + k * dims.lda + m); }
    } else {
      let m = m0 + i / (BK / 4u);
      let k = k0 + (i % (BK / 4u)) * 4u;
      if (m < dims.M && k < dims.K) { v = ldA4(aBase + m * dims.lda + k); }
    }
    return v;
  }
  if (TRANS_A) { // A stored (K,M): the 4 elements run along m
    let k = k0 + i / (BM / 4u);
    let m = m0 + (i % (BM / 4u)) * 4u;
    if (k < dims.K) {
      let i0 = aBase + k * dims.lda + m;
      if (m + 3u < dims.M) { // all four inside: no per-element checks
        v = ldA4(i0);
      } else {
        for (var c = 0u; c < 4u; c++) {
          if (m + c < dims.M) { v[c] = ldA1(i0 + c); }
        }
      }
    }
  } else { // A stored (M,K): the 4 elements run along k
    let m = m0 + i / (BK / 4u);
    let k = k0 + (i % (BK / 4u)) * 4u;
    if (m < dims.M) {
      let i0 = aBase + m * dims.lda + k;
      if (k + 3u < dims.K) {
        v = ldA4(i0);
      } else {
        for (var c = 0u; c < 4u; c++) {
          if (k + c < dims.K) { v[c] = ldA1(i0 + c); }
        }
      }
    }
  }
  return v;
}

fn storeA(i: u32, v: vec4<f32>) {
  if (TRANS_A) {
    As[i] = v; // same layout: k-major rows of BM/4 vec4s
  } else {
    let m = i / (BK / 4u);
    let k = (i % (BK / 4u)) * 4u;
    let col = m / 4u;
    let lane = m % 4u;
    As[(k + 0u) * (BM / 4u) + col][lane] = v.x;
    As[(k + 1u) * (BM / 4u) + col][lane] = v.y;
    As[(k + 2u) * (BM / 4u) + col][lane] = v.z;
    As[(k + 3u) * (BM / 4u) + col][lane] = v.w;
  }
}

fn loadB(i: u32, k0: u32, n0: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  if (B_WHOLE) {
    if (TRANS_B) {
      let n = n0 + i / (BK / 4u);
      let k = k0 + (i % (BK / 4u)) * 4u;
      if (n < dims.N && k < dims.K) { v = ldB4(bBase + n * dims.ldb + k); }
    } else {
      let k = k0 + i / (BN / 4u);
      let n = n0 + (i % (BN / 4u)) * 4u;
      if (k < dims.K && n < dims.N) { v = ldB4(bBase + k * dims.ldb + n); }
    }
    return v;
  }
  if (TRANS_B) { // B stored (N,K): the 4 elements run along k
    let n = n0 + i / (BK / 4u);
    let k = k0 + (i % (BK / 4u)) * 4u;
    if (n < dims.N) {
      let i0 = bBase + n * dims.ldb + k;
      if (k + 3u < dims.K) {
        v = ldB4(i0);
      } else {
        for (var c = 0u; c < 4u; c++) {
          if (k + c < dims.K) { v[c] = ldB1(i0 + c); }
        }
      }
    }
  } else { // B stored (K,N): the 4 elements run along n
    let k = k0 + i / (BN / 4u);
    let n = n0 + (i % (BN / 4u)) * 4u;
    if (k < dims.K) {
      let i0 = bBase + k * dims.ldb + n;
      if (n + 3u < dims.N) {
        v = ldB4(i0);
      } else {
        for (var c = 0u; c < 4u; c++) {
          if (n + c < dims.N) { v[c] = ldB1(i0 + c); }
        }
      }
    }
  }
  return v;
}

fn storeB(i: u32, v: vec4<f32>) {
  if (TRANS_B) {
    let n = i / (BK / 4u);
    let k = (i % (BK / 4u)) * 4u;
    let col = n / 4u;
    let lane = n % 4u;
    Bs[(k + 0u) * (BN / 4u) + col][lane] = v.x;
    Bs[(k + 1u) * (BN / 4u) + col][lane] = v.y;
    Bs[(k + 2u) * (BN / 4u) + col][lane] = v.z;
    Bs[(k + 3u) * (BN / 4u) + col][lane] = v.w;
  } else {
    Bs[i] = v;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let zo = wg.z / dims.inner;
  let zi = wg.z % dims.inner;
  aBase = dims.aOff + zo * dims.aOuter + zi * dims.aInner;
  bBase = dims.bOff + zo * dims.bOuter + zi * dims.bInner;
  let oBase = dims.oOff + zo * dims.oOuter + zi * dims.oInner;
  let m0 = wg.y * BM;
  let n0 = wg.x * BN;
  if (CAUSAL == 1u && n0 > m0 + BM - 1u) { return; } // uniform: the whole tile is masked
  var kStart = 0u;
  var kEnd = dims.K;
  if (CAUSAL == 2u) { kEnd = min(dims.K, m0 + BM); }
  if (CAUSAL == 3u) { kStart = (m0 / BK) * BK; }
  let tx = tid % (BN / 8u); // column group: vec4 columns tx and BN/8 + tx
  let ty = tid / (BN / 8u); // row group: rows 4ty..4ty+3 and BM/2 + 4ty..

  var acc: array<vec4<f32>, 16>; // acc[r*2 + h]: row r (0..7), column half h
  var pa: array<vec4<f32>, 4>;
  var pb: array<vec4<f32>, 4>;

  for (var l = 0u; l < LOADS_A; l++) { pa[l] = loadA(tid + l * WG, m0, kStart); }
  for (var l = 0u; l < LOADS_B; l++) { pb[l] = loadB(tid + l * WG, kStart, n0); }

  let nSteps = (kEnd - kStart + BK - 1u) / BK;
  for (var s = 0u; s < nSteps; s++) {
    workgroupBarrier(); // everyone is done reading the previous tile
    for (var l = 0u; l < LOADS_A; l++) { storeA(tid + l * WG, pa[l]); }
    for (var l = 0u; l < LOADS_B; l++) { storeB(tid + l * WG, pb[l]); }
    workgroupBarrier();
    if (s + 1u < nSteps) { // prefetch the next tile while this one is multiplied
      let k1 = kStart + (s + 1u) * BK;
      for (var l = 0u; l < LOADS_A; l++) { pa[l] = loadA(tid + l * WG, m0, k1); }
      for (var l = 0u; l < LOADS_B; l++) { pb[l] = loadB(tid + l * WG, k1, n0); }
    }
    for (var k = 0u; k < BK; k++) {
      let a0 = As[k * (BM / 4u) + ty];
      let a1 = As[k * (BM / 4u) + BM / 8u + ty];
      let b0 = Bs[k * (BN / 4u) + tx];
      let b1 = Bs[k * (BN / 4u) + BN / 8u + tx];
      for (var r = 0u; r < 4u; r++) {
        acc[r * 2u] = fma(vec4<f32>(a0[r]), b0, acc[r * 2u]);
        acc[r * 2u + 1u] = fma(vec4<f32>(a0[r]), b1, acc[r * 2u + 1u]);
        acc[8u + r * 2u] = fma(vec4<f32>(a1[r]), b0, acc[8u + r * 2u]);
        acc[8u + r * 2u + 1u] = fma(vec4<f32>(a1[r]), b1, acc[8u + r * 2u + 1u]);
      }
    }
  }

  for (var r = 0u; r < 8u; r++) {
    var m = m0 + ty * 4u + r;
    if (r >= 4u) { m = m0 + BM / 2u + ty * 4u + (r - 4u); }
    if (m >= dims.M) { continue; }
    for (var h = 0u; h < 2u; h++) {
      let n = n0 + (h * (BN / 8u) + tx) * 4u;
      let v = acc[r * 2u + h];
      let i0 = oBase + m * dims.ldo + n;
      if (OUT_VEC4 && n + 3u < dims.N) { // out bound as vec4 and all four inside: one store
        var x4 = v * dims.alpha;
        if (HAS_BIAS) { x4 += ldBias4(n); }
        if (ACCUMULATE) { x4 += ldO4(i0); }
        stO4(i0, x4);
        continue;
      }
      for (var c = 0u; c < 4u; c++) { // constant trip count: keeps acc in registers
        if (n + c >= dims.N) { break; }
        var x = v[c] * dims.alpha;
        if (HAS_BIAS) { x += ldBias1(n + c); }
        if (ACCUMULATE) { x += ldO1(i0 + c); }
        stO1(i0 + c, x);
      }
    }
  }
}
