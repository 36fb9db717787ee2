// sign codec with error feedback, bit-identical to peer-core/src/codecs/sign.ts (EF-SignSGD,
// Karimireddy et al. 2019). `encode`: one workgroup of BLOCK threads (a power of two <= 256) per
// block: p = x + r; scale = (tree sum of |p| over the block, the order of `treeSumAbs`) * inv_len;
// sign bit (p < 0) OR-ed into bit i%32 of word i/32 (the bits buffer must be zeroed first);
// residual r <- p - (p < 0 ? -scale : scale). With EF = false the residual is neither read nor
// written. inv_len = fround(1/len) comes from the wrapper (the last block may be shorter).

override BLOCK: u32 = 256u;
override EF: bool = true;

struct Params { n: u32, nblocks: u32, inv_full: f32, inv_last: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> residual: array<f32>;
@group(0) @binding(3) var<storage, read_write> scales: array<f32>;
@group(0) @binding(4) var<storage, read_write> bits: array<atomic<u32>>;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(BLOCK)
fn encode(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wg.x + wg.y * nwg.x;
  if (b >= params.nblocks) { return; }
  let i = b * BLOCK + lid;
  let inside = i < params.n;
  var p = 0.0;
  if (inside) {
    p = x[i];
    if (EF) { p = p + residual[i]; }
  }
  red[lid] = abs(p);
  workgroupBarrier();
  for (var s = BLOCK / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  var inv = params.inv_full;
  if (b == params.nblocks - 1u) { inv = params.inv_last; }
  let scale = red[0] * inv;
  if (lid == 0u) { scales[b] = scale; }
  if (inside) {
    var d = scale;
    if (p < 0.0) {
      d = -scale;
      atomicOr(&bits[i >> 5u], 1u << (i & 31u));
    }
    if (EF) { residual[i] = p - d; }
  }
}
