// matmul: out (M,N) = A·B (+ bias), optionally accumulated into out.
// A is (M,K) row-major, or (K,M) when TRANS_A; B is (K,N), or (N,K) when TRANS_B.
// Tiled: each workgroup computes a TILE×TILE block of out, staging TILE×TILE tiles of A and B
// in workgroup memory. Edges (sizes not multiples of TILE) are guarded, loads padded with 0.
// This is the first, plain tiled kernel; register-blocked variants live beside it.

override TILE: u32 = 16u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;

struct Dims { M: u32, K: u32, N: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

var<workgroup> tileA: array<f32, 256>; // TILE*TILE with TILE = 16
var<workgroup> tileB: array<f32, 256>;

fn loadA(m: u32, k: u32) -> f32 {
  if (m >= dims.M || k >= dims.K) { return 0.0; }
  if (TRANS_A) { return a[k * dims.M + m]; }
  return a[m * dims.K + k];
}

fn loadB(k: u32, n: u32) -> f32 {
  if (k >= dims.K || n >= dims.N) { return 0.0; }
  if (TRANS_B) { return b[n * dims.K + k]; }
  return b[k * dims.N + n];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.y * TILE + lid.y;
  let col = wg.x * TILE + lid.x;
  var acc = 0.0;
  let nTiles = (dims.K + TILE - 1u) / TILE;
  for (var t = 0u; t < nTiles; t++) {
    tileA[lid.y * TILE + lid.x] = loadA(row, t * TILE + lid.x);
    tileB[lid.y * TILE + lid.x] = loadB(t * TILE + lid.y, col);
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      acc += tileA[lid.y * TILE + k] * tileB[k * TILE + lid.x];
    }
    workgroupBarrier();
  }
  if (row < dims.M && col < dims.N) {
    if (HAS_BIAS) { acc += bias[col]; }
    let i = row * dims.N + col;
    if (ACCUMULATE) { out[i] = out[i] + acc; } else { out[i] = acc; }
  }
}
