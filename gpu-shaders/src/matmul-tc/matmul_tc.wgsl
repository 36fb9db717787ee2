// Tensor-core matmul (mixed precision): out(M,N) = A·B with f16 operands and f32
// accumulation on subgroup matrices (Dawn's chromium_experimental_subgroup_matrix, which maps
// to cooperative matrices / NVIDIA tensor cores). A and B are f32 in memory; each K step
// stages a BM×BK tile of A and a BK×BN tile of B into workgroup memory, rounding them to f16
// on the way. Each subgroup owns an SG_M×SG_N block of the workgroup's BM×BN tile, held as
// (SG_M/16)×(SG_N/16) 16×16 f32 result matrices.
//
// - Shapes: the contiguous dimension of A and of B (K or M, N or K) must be a multiple of 4
//   (vec4 loads). With EDGES (set by the wrapper when M, N or K is off the tile grid) loads
//   outside A or B read zeros, and workgroups whose tile is not wholly inside `out` (or when
//   N % 4 != 0) move each result matrix through workgroup memory and write only the elements
//   inside. Without EDGES none of these checks is compiled in.
// - TRANS_A: A is stored (K,M); TRANS_B: B is stored (N,K). A transposed operand is staged as
//   stored (contiguous vec4 loads) and read back as a column-major subgroup matrix.
// - Staged tiles are f16 packed four to a vec2<u32> (pack2x16float, round to nearest even on
//   NVIDIA), read back with the templated subgroupMatrixLoad<T, row_major|col_major>(ptr,
//   offset, stride), whose offset and stride count array elements (4 f16 each). That form
//   (Dawn/Tint from mid-2026, npm `webgpu` 0.6.2) replaces the deprecated one with a
//   col_major bool argument and an f16 array.
// - Double buffering: the next K tile is loaded into registers while the current one is
//   multiplied, then written into the other workgroup buffer; one barrier per K tile.
// - The wrapper replaces the `const` lines below (tile sizes, subgroup size, flags) per variant
//   and unrolls the loops marked `// @unroll` (constant trip counts), so that subgroup matrices
//   in arrays are indexed by constants and stay in registers.
//
// - Split-K (params.KC != 0): workgroup z takes K range [z·KC, (z+1)·KC) and writes slice z of
//   out (M·N floats each); the caller sums the slices.
// NOT here: f32 operands (the H200's configs are f16/int only), bias, alpha, strides, batching.
enable f16;
enable chromium_experimental_subgroup_matrix;
// Subgroup index = local_invocation_index / SG_SIZE, which the uniformity analysis cannot
// prove subgroup-uniform. It is on devices that pack subgroups in invocation order (NVIDIA),
// and the wrapper only runs where min and max subgroup size equal SG_SIZE.
diagnostic(off, chromium.subgroup_matrix_uniformity);

const BM: u32 = 128u;
const BN: u32 = 128u;
const BK: u32 = 32u;
const SG_M: u32 = 32u;
const SG_N: u32 = 64u;
const SG_SIZE: u32 = 32u;
const TRANS_A: bool = false;
const TRANS_B: bool = false;
const ACCUMULATE: bool = false;
const EDGES: bool = false;
// Workgroup order: M_FAST puts M tiles on workgroup_id.x, so that consecutive workgroups share
// a B tile column (for a wide B that does not fit in L2, e.g. the LM head); else N tiles.
const M_FAST: bool = false;

alias LeftT = subgroup_matrix_left<f16, 16, 16>;
alias RightT = subgroup_matrix_right<f16, 16, 16>;
alias ResultT = subgroup_matrix_result<f32, 16, 16>;

const TM: u32 = SG_M / 16u;
const TN: u32 = SG_N / 16u;
const SGS_N: u32 = BN / SG_N;
const WG: u32 = (BM / SG_M) * SGS_N * SG_SIZE;
// Padding (in f16) of each staged row, to spread rows over shared-memory banks.
const PAD: u32 = 8u;
// Staged tiles keep the stored layout: A is BM×BK (or BK×BM when TRANS_A), B is BK×BN (or BN×BK).
const A_ROWS: u32 = select(BM, BK, TRANS_A);
const A_COLS: u32 = select(BK, BM, TRANS_A);
const B_ROWS: u32 = select(BK, BN, TRANS_B);
const B_COLS: u32 = select(BN, BK, TRANS_B);
const A_LD: u32 = A_COLS + PAD;
const B_LD: u32 = B_COLS + PAD;
const A_SIZE: u32 = A_ROWS * A_LD;
const B_SIZE: u32 = B_ROWS * B_LD;
const A_VEC: u32 = BM * BK / 4u / WG;
const B_VEC: u32 = BK * BN / 4u / WG;
// Edge tiles: each subgroup bounces a 16×16 f32 result matrix through 128 vec2<u32> of As.
const NSG: u32 = WG / SG_SIZE;
const SCR_Q: u32 = 128u / SG_SIZE;
const_assert NSG * 128u <= 2u * A_SIZE / 4u;

struct Params {
  M: u32,
  K: u32,
  N: u32,
  // Split-K: workgroup z multiplies the K range [z·KC, min(K, (z+1)·KC)) into slice z of out
  // (z·M·N onwards); 0 = one slice over all of K. A multiple of BK.
  KC: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Staged f16 values, four per vec2<u32> (pack2x16float): one 8-byte store per staged vec4.
// subgroupMatrixLoad reads them as f16 with offsets and strides in vec2<u32> units (/ 4).
var<workgroup> As: array<vec2<u32>, 2u * A_SIZE / 4u>;
var<workgroup> Bs: array<vec2<u32>, 2u * B_SIZE / 4u>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = params.M;
  let K = params.K;
  let N = params.N;
  let m0 = select(wid.y, wid.x, M_FAST) * BM;
  let n0 = select(wid.x, wid.y, M_FAST) * BN;
  let sg = lid / SG_SIZE;
  let lane = lid % SG_SIZE;
  let scr = sg * 128u;
  let sm = (sg / SGS_N) * SG_M;
  let sn = (sg % SGS_N) * SG_N;

  // Stored layouts: A is a_rows×a_cols, B is b_rows×b_cols; row strides in vec4 units.
  let a_cols = select(K, M, TRANS_A);
  let b_cols = select(N, K, TRANS_B);
  let a_ld4 = a_cols / 4u;
  let b_ld4 = b_cols / 4u;
  // This workgroup's K range and output slice (split-K); loads past k_end read zeros.
  let kc = select(K, params.KC, params.KC != 0u);
  let k_beg = wid.z * kc;
  let k_end = min(K, k_beg + kc);
  let obase = wid.z * M * N;
  let a_rows_lim = select(M, k_end, TRANS_A);
  let a_cols_lim = select(k_end, M, TRANS_A);
  let b_rows_lim = select(k_end, N, TRANS_B);
  let b_cols_lim = select(N, k_end, TRANS_B);
  // Whether this workgroup's output tile can be read and written directly (workgroup-uniform).
  let direct = !EDGES || (m0 + BM <= M && n0 + BN <= N && N % 4u == 0u);

  var acc: array<ResultT, TM * TN>;
  if (ACCUMULATE) {
    // @unroll
    for (var i = 0u; i < TM; i++) {
      // @unroll
      for (var j = 0u; j < TN; j++) {
        let off = obase + (m0 + sm + 16u * i) * N + n0 + sn + 16u * j;
        if (direct) {
          acc[i * TN + j] = subgroupMatrixLoad<ResultT, row_major>(&out, off, N);
        } else {
          // Each lane stages 2·SCR_Q elements of the matrix (zeros outside out), then the
          // subgroup loads it from workgroup memory.
          // @unroll
          for (var q = 0u; q < SCR_Q; q++) {
            let e = 2u * (lane * SCR_Q + q);
            let row = m0 + sm + 16u * i + e / 16u;
            let col = n0 + sn + 16u * j + e % 16u;
            var v = vec2<f32>(0.0);
            if (row < M && col < N) {
              v.x = out[obase + row * N + col];
            }
            if (row < M && col + 1u < N) {
              v.y = out[obase + row * N + col + 1u];
            }
            As[scr + lane * SCR_Q + q] = bitcast<vec2<u32>>(v);
          }
          workgroupBarrier();
          acc[i * TN + j] = subgroupMatrixLoad<ResultT, row_major>(&As, scr, 8u);
          workgroupBarrier();
        }
      }
    }
  }

  var ra: array<vec4<f32>, A_VEC>;
  var rb: array<vec4<f32>, B_VEC>;

  // Global -> registers for the K tile starting at k0.
  let nk = (k_end - k_beg + BK - 1u) / BK;
  for (var t = 0u; t <= nk; t++) {
    let cur = t % 2u;
    if (t < nk) {
      let k0 = k_beg + t * BK;
      let a_r0 = select(m0, k0, TRANS_A);
      let a_c0 = select(k0, m0, TRANS_A) / 4u;
      // @unroll
      for (var v = 0u; v < A_VEC; v++) {
        let i = lid + v * WG;
        let r = i / (A_COLS / 4u);
        let c = i % (A_COLS / 4u);
        var x = vec4<f32>(0.0);
        if (!EDGES || (a_r0 + r < a_rows_lim && 4u * (a_c0 + c) < a_cols_lim)) {
          x = a[(a_r0 + r) * a_ld4 + a_c0 + c];
        }
        ra[v] = x;
      }
      let b_r0 = select(k0, n0, TRANS_B);
      let b_c0 = select(n0, k0, TRANS_B) / 4u;
      // @unroll
      for (var v = 0u; v < B_VEC; v++) {
        let i = lid + v * WG;
        let r = i / (B_COLS / 4u);
        let c = i % (B_COLS / 4u);
        var x = vec4<f32>(0.0);
        if (!EDGES || (b_r0 + r < b_rows_lim && 4u * (b_c0 + c) < b_cols_lim)) {
          x = b[(b_r0 + r) * b_ld4 + b_c0 + c];
        }
        rb[v] = x;
      }
    }

    // Multiply the tile staged in the previous iteration (buffer 1 - cur).
    if (t > 0u) {
      let abase = (1u - cur) * A_SIZE;
      let bbase = (1u - cur) * B_SIZE;
      // @unroll
      for (var kk = 0u; kk < BK; kk += 16u) {
        var left: array<LeftT, TM>;
        // @unroll
        for (var i = 0u; i < TM; i++) {
          if (TRANS_A) {
            left[i] = subgroupMatrixLoad<LeftT, col_major>(&As, (abase + kk * A_LD + sm + 16u * i) / 4u, A_LD / 4u);
          } else {
            left[i] = subgroupMatrixLoad<LeftT, row_major>(&As, (abase + (sm + 16u * i) * A_LD + kk) / 4u, A_LD / 4u);
          }
        }
        // @unroll
        for (var j = 0u; j < TN; j++) {
          var right: RightT;
          if (TRANS_B) {
            right = subgroupMatrixLoad<RightT, col_major>(&Bs, (bbase + (sn + 16u * j) * B_LD + kk) / 4u, B_LD / 4u);
          } else {
            right = subgroupMatrixLoad<RightT, row_major>(&Bs, (bbase + kk * B_LD + sn + 16u * j) / 4u, B_LD / 4u);
          }
          // @unroll
          for (var i = 0u; i < TM; i++) {
            acc[i * TN + j] = subgroupMatrixMultiplyAccumulate(left[i], right, acc[i * TN + j]);
          }
        }
      }
    }

    // Registers -> workgroup buffer `cur` (rounded to f16), for the next iteration.
    if (t < nk) {
      let abase = cur * A_SIZE;
      // @unroll
      for (var v = 0u; v < A_VEC; v++) {
        let i = lid + v * WG;
        let r = i / (A_COLS / 4u);
        let c = i % (A_COLS / 4u);
        let f = ra[v];
        As[(abase + r * A_LD) / 4u + c] = vec2<u32>(pack2x16float(f.xy), pack2x16float(f.zw));
      }
      let bbase = cur * B_SIZE;
      // @unroll
      for (var v = 0u; v < B_VEC; v++) {
        let i = lid + v * WG;
        let r = i / (B_COLS / 4u);
        let c = i % (B_COLS / 4u);
        let f = rb[v];
        Bs[(bbase + r * B_LD) / 4u + c] = vec2<u32>(pack2x16float(f.xy), pack2x16float(f.zw));
      }
    }
    workgroupBarrier();
  }

  // @unroll
  for (var i = 0u; i < TM; i++) {
    // @unroll
    for (var j = 0u; j < TN; j++) {
      if (direct) {
        let off = obase + (m0 + sm + 16u * i) * N + n0 + sn + 16u * j;
        subgroupMatrixStore<row_major>(&out, off, acc[i * TN + j], N);
      } else {
        // Through workgroup memory (free after the last barrier): only elements inside out.
        subgroupMatrixStore<row_major>(&As, scr, acc[i * TN + j], 8u);
        workgroupBarrier();
        // @unroll
        for (var q = 0u; q < SCR_Q; q++) {
          let e = 2u * (lane * SCR_Q + q);
          let row = m0 + sm + 16u * i + e / 16u;
          let col = n0 + sn + 16u * j + e % 16u;
          let v = bitcast<vec2<f32>>(As[scr + lane * SCR_Q + q]);
          if (row < M && col < N) {
            out[obase + row * N + col] = v.x;
          }
          if (row < M && col + 1u < N) {
            out[obase + row * N + col + 1u] = v.y;
          }
        }
        workgroupBarrier();
      }
    }
  }
}
