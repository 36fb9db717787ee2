// matmul_lanes: out (M,N) = alpha·A·B (+ bias), optionally accumulated into out, for CPU
// WebGPU implementations (SwiftShader): no workgroup memory and no barriers.
// A is (M,K) or (K,M) when TRANS_A; B is (K,N) or (N,K) when TRANS_B. Any shape, batched and
// strided exactly as matmul_blocked.wgsl (same Dims uniform and binding order).
//
// Why a separate kernel: a CPU implementation runs 4 consecutive invocations as the 4 lanes of
// one SIMD register and a workgroup as a loop (or, when it has barriers, as coroutines that
// switch at every barrier), so workgroup-memory staging and barriers cost instead of help, and
// a storage load is cheap only when the 4 lanes read one address (one load, broadcast) or 4
// consecutive ones (one vector load); any other pattern is 4 separate loads. So here:
//  - lane l of a group of 4 invocations owns the output columns n0 + 4c + l (c = 0..3): the B
//    loads B[k][n] of the 4 lanes are consecutive, the A loads A[m][k] are one address;
//  - each invocation holds an RM×4 register tile (RM rows, one vec4 accumulator per row whose
//    components are the columns 4 apart), K unrolled by 4 with named registers (no arrays, so
//    nothing is indexed dynamically);
//  - indices are clamped into the matrix instead of guarded, so loads never run with disabled
//    lanes (a masked load takes the slow per-lane path); only the stores are guarded.
// TRANS_B loads B[n][k] 4 rows apart (per-lane loads): correct, but the wrapper may instead
// copy Bᵀ into scratch first (see matmul.ts).
//
// A workgroup is WG invocations = WG/4 groups of 4 lanes, GX groups across columns and
// WG/4/GX down rows: a tile of (RM·WG/4/GX) × (16·GX) outputs.
// Not here: anything tuned for real GPUs (see matmul_blocked.wgsl).

override WG: u32 = 64u;
override RM: u32 = 4u; // rows per invocation: 1, 2, 4 or 8
override CN: u32 = 4u; // columns per invocation (4 apart): 4 or 8
override GX: u32 = 1u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
// Causal structure of attention products, as in matmul_blocked.wgsl: 0 none; 1 skip output
// tiles entirely above the diagonal; 2 stop K at the tile's last row; 3 start K at its first row.
override CAUSAL: u32 = 0u;

struct Dims {
  M: u32, K: u32, N: u32, inner: u32,
  lda: u32, ldb: u32, ldo: u32, alpha: f32,
  aOuter: u32, aInner: u32, bOuter: u32, bInner: u32,
  oOuter: u32, oInner: u32, aOff: u32, bOff: u32,
  oOff: u32, _a: u32, _b: u32, _c: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// Element offsets of A[m][k] and B[k][n] relative to the product's base.
fn offA(m: u32, k: u32) -> u32 {
  if (TRANS_A) { return k * dims.lda + m; }
  return m * dims.lda + k;
}
fn offB(k: u32, n: u32) -> u32 {
  if (TRANS_B) { return n * dims.ldb + k; }
  return k * dims.ldb + n;
}

// Row k of B at the 4 (clamped) columns of this invocation.
fn rowB(base: u32, k: u32, n0: u32, n1: u32, n2: u32, n3: u32) -> vec4<f32> {
  return vec4<f32>(b[base + offB(k, n0)], b[base + offB(k, n1)], b[base + offB(k, n2)], b[base + offB(k, n3)]);
}

// A[m][k..k+3] of one row.
fn colsA(base: u32, m: u32, k: u32) -> vec4<f32> {
  return vec4<f32>(a[base + offA(m, k)], a[base + offA(m, k + 1u)], a[base + offA(m, k + 2u)], a[base + offA(m, k + 3u)]);
}

fn step4(acc: vec4<f32>, av: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) -> vec4<f32> {
  return fma(vec4<f32>(av.w), b3, fma(vec4<f32>(av.z), b2, fma(vec4<f32>(av.y), b1, fma(vec4<f32>(av.x), b0, acc))));
}

fn store(oBase: u32, m: u32, n: u32, acc: vec4<f32>) {
  if (m >= dims.M) { return; }
  for (var c = 0u; c < 4u; c++) {
    let col = n + 4u * c;
    if (col < dims.N) {
      var x = acc[c] * dims.alpha;
      if (HAS_BIAS) { x += bias[col]; }
      let i = oBase + m * dims.ldo + col;
      if (ACCUMULATE) { x += out[i]; }
      out[i] = x;
    }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let zo = wg.z / dims.inner;
  let zi = wg.z % dims.inner;
  let aBase = dims.aOff + zo * dims.aOuter + zi * dims.aInner;
  let bBase = dims.bOff + zo * dims.bOuter + zi * dims.bInner;
  let oBase = dims.oOff + zo * dims.oOuter + zi * dims.oInner;
  let TM = RM * (WG / 4u / GX);
  let tm0 = wg.y * TM; // the workgroup's first row
  let TN = 4u * CN * GX;
  let tn0 = wg.x * TN;
  if (CAUSAL == 1u && tn0 > tm0 + TM - 1u) { return; } // the whole tile is above the diagonal
  var kStart = 0u;
  var kEnd = dims.K;
  if (CAUSAL == 2u) { kEnd = min(dims.K, tm0 + TM); }
  if (CAUSAL == 3u) { kStart = min(tm0, dims.K); }

  let lane = tid % 4u;
  let g = tid / 4u;
  let n = tn0 + (g % GX) * 4u * CN + lane; // this lane's columns: n, n+4, n+8, ...
  let m = tm0 + (g / GX) * RM; // rows m .. m+RM-1
  let lastN = dims.N - 1u;
  let lastM = dims.M - 1u;
  let n0 = min(n, lastN);
  let n1 = min(n + 4u, lastN);
  let n2 = min(n + 8u, lastN);
  let n3 = min(n + 12u, lastN);
  let n4 = min(n + 16u, lastN);
  let n5 = min(n + 20u, lastN);
  let n6 = min(n + 24u, lastN);
  let n7 = min(n + 28u, lastN);
  let m0 = min(m, lastM);
  let m1 = min(m + 1u, lastM);
  let m2 = min(m + 2u, lastM);
  let m3 = min(m + 3u, lastM);
  let m4 = min(m + 4u, lastM);
  let m5 = min(m + 5u, lastM);
  let m6 = min(m + 6u, lastM);
  let m7 = min(m + 7u, lastM);

  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var c4 = vec4<f32>(0.0);
  var c5 = vec4<f32>(0.0);
  var c6 = vec4<f32>(0.0);
  var c7 = vec4<f32>(0.0);
  var d0 = vec4<f32>(0.0); // columns n+16 .. n+28 when CN = 8
  var d1 = vec4<f32>(0.0);
  var d2 = vec4<f32>(0.0);
  var d3 = vec4<f32>(0.0);
  var d4 = vec4<f32>(0.0);
  var d5 = vec4<f32>(0.0);
  var d6 = vec4<f32>(0.0);
  var d7 = vec4<f32>(0.0);

  var k = kStart;
  for (; k + 4u <= kEnd; k += 4u) {
    let b0 = rowB(bBase, k, n0, n1, n2, n3);
    let b1 = rowB(bBase, k + 1u, n0, n1, n2, n3);
    let b2 = rowB(bBase, k + 2u, n0, n1, n2, n3);
    let b3 = rowB(bBase, k + 3u, n0, n1, n2, n3);
    let a0 = colsA(aBase, m0, k);
    let a1 = colsA(aBase, m1, k);
    let a2 = colsA(aBase, m2, k);
    let a3 = colsA(aBase, m3, k);
    let a4 = colsA(aBase, m4, k);
    let a5 = colsA(aBase, m5, k);
    let a6 = colsA(aBase, m6, k);
    let a7 = colsA(aBase, m7, k);
    c0 = step4(c0, a0, b0, b1, b2, b3);
    if (RM > 1u) { c1 = step4(c1, a1, b0, b1, b2, b3); }
    if (RM > 2u) {
      c2 = step4(c2, a2, b0, b1, b2, b3);
      c3 = step4(c3, a3, b0, b1, b2, b3);
    }
    if (RM > 4u) {
      c4 = step4(c4, a4, b0, b1, b2, b3);
      c5 = step4(c5, a5, b0, b1, b2, b3);
      c6 = step4(c6, a6, b0, b1, b2, b3);
      c7 = step4(c7, a7, b0, b1, b2, b3);
    }
    if (CN > 4u) {
      let e0 = rowB(bBase, k, n4, n5, n6, n7);
      let e1 = rowB(bBase, k + 1u, n4, n5, n6, n7);
      let e2 = rowB(bBase, k + 2u, n4, n5, n6, n7);
      let e3 = rowB(bBase, k + 3u, n4, n5, n6, n7);
      d0 = step4(d0, a0, e0, e1, e2, e3);
      if (RM > 1u) { d1 = step4(d1, a1, e0, e1, e2, e3); }
      if (RM > 2u) {
        d2 = step4(d2, a2, e0, e1, e2, e3);
        d3 = step4(d3, a3, e0, e1, e2, e3);
      }
      if (RM > 4u) {
        d4 = step4(d4, a4, e0, e1, e2, e3);
        d5 = step4(d5, a5, e0, e1, e2, e3);
        d6 = step4(d6, a6, e0, e1, e2, e3);
        d7 = step4(d7, a7, e0, e1, e2, e3);
      }
    }
  }
  for (; k < kEnd; k++) { // K % 4 tail: one k at a time, same registers
    let bk = rowB(bBase, k, n0, n1, n2, n3);
    let ek = rowB(bBase, k, n4, n5, n6, n7);
    let z = vec4<f32>(0.0);
    let a0 = vec4<f32>(a[aBase + offA(m0, k)], 0.0, 0.0, 0.0);
    let a1 = vec4<f32>(a[aBase + offA(m1, k)], 0.0, 0.0, 0.0);
    let a2 = vec4<f32>(a[aBase + offA(m2, k)], 0.0, 0.0, 0.0);
    let a3 = vec4<f32>(a[aBase + offA(m3, k)], 0.0, 0.0, 0.0);
    let a4 = vec4<f32>(a[aBase + offA(m4, k)], 0.0, 0.0, 0.0);
    let a5 = vec4<f32>(a[aBase + offA(m5, k)], 0.0, 0.0, 0.0);
    let a6 = vec4<f32>(a[aBase + offA(m6, k)], 0.0, 0.0, 0.0);
    let a7 = vec4<f32>(a[aBase + offA(m7, k)], 0.0, 0.0, 0.0);
    c0 = step4(c0, a0, bk, z, z, z);
    if (RM > 1u) { c1 = step4(c1, a1, bk, z, z, z); }
    if (RM > 2u) {
      c2 = step4(c2, a2, bk, z, z, z);
      c3 = step4(c3, a3, bk, z, z, z);
    }
    if (RM > 4u) {
      c4 = step4(c4, a4, bk, z, z, z);
      c5 = step4(c5, a5, bk, z, z, z);
      c6 = step4(c6, a6, bk, z, z, z);
      c7 = step4(c7, a7, bk, z, z, z);
    }
    if (CN > 4u) {
      d0 = step4(d0, a0, ek, z, z, z);
      if (RM > 1u) { d1 = step4(d1, a1, ek, z, z, z); }
      if (RM > 2u) {
        d2 = step4(d2, a2, ek, z, z, z);
        d3 = step4(d3, a3, ek, z, z, z);
      }
      if (RM > 4u) {
        d4 = step4(d4, a4, ek, z, z, z);
        d5 = step4(d5, a5, ek, z, z, z);
        d6 = step4(d6, a6, ek, z, z, z);
        d7 = step4(d7, a7, ek, z, z, z);
      }
    }
  }

  store(oBase, m, n, c0);
  if (RM > 1u) { store(oBase, m + 1u, n, c1); }
  if (RM > 2u) {
    store(oBase, m + 2u, n, c2);
    store(oBase, m + 3u, n, c3);
  }
  if (RM > 4u) {
    store(oBase, m + 4u, n, c4);
    store(oBase, m + 5u, n, c5);
    store(oBase, m + 6u, n, c6);
    store(oBase, m + 7u, n, c7);
  }
  if (CN > 4u) {
    store(oBase, m, n + 16u, d0);
    if (RM > 1u) { store(oBase, m + 1u, n + 16u, d1); }
    if (RM > 2u) {
      store(oBase, m + 2u, n + 16u, d2);
      store(oBase, m + 3u, n + 16u, d3);
    }
    if (RM > 4u) {
      store(oBase, m + 4u, n + 16u, d4);
      store(oBase, m + 5u, n + 16u, d5);
      store(oBase, m + 6u, n + 16u, d6);
      store(oBase, m + 7u, n + 16u, d7);
    }
  }
}
