// int8 codec: blockwise stochastic rounding with power-of-two block scales, bit-identical to the
// CPU reference in peer-core/src/codecs/int8.ts (see there for the math and payload layout).
// `quantize`: one workgroup (64 threads) per block of BLOCK elements (BLOCK a multiple of 4);
//   max|x| by a workgroup reduction (max is order-independent, hence exact), exponent e by exact
//   bit ops, then each thread packs 4 int8 per u32 word; the block's exponent byte (e + 127) is
//   OR-ed into its exponent word (the exps buffer must be zeroed first).
// Decoding lives in int8_decode.wgsl (its bindings differ).
// RNG: u = (pcg(pcg(seed) + i) >> 8) * 2^-24, the hash in peer-core/src/codecs/hash.ts.

override BLOCK: u32 = 256u;

struct Params { n: u32, seed: u32, nblocks: u32, _p: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> exps: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read_write> q: array<u32>;

var<workgroup> red: array<f32, 64>;
var<workgroup> blockExp: i32;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// 2^k as f32 for k in [-126, 127], built from bits (exact).
fn pow2(k: i32) -> f32 {
  return bitcast<f32>(u32(k + 127) << 23u);
}

@compute @workgroup_size(64)
fn quantize(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wg.x + wg.y * nwg.x;
  if (b >= params.nblocks) { return; } // uniform per workgroup: safe before the barriers
  let lo = b * BLOCK;
  let hi = min(params.n, lo + BLOCK);
  var m = 0.0;
  for (var i = lo + lid; i < hi; i += 64u) { m = max(m, abs(x[i])); }
  red[lid] = m;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let absmax = red[0];
    var e = -126;
    if (absmax != 0.0) {
      e = max(i32((bitcast<u32>(absmax) >> 23u) & 0xffu) - 127 - 6, -126);
      if (absmax * pow2(-e) > 127.0) { e += 1; }
    }
    blockExp = e;
    atomicOr(&exps[b >> 2u], u32(e + 127) << ((b & 3u) * 8u));
  }
  workgroupBarrier();
  let e = workgroupUniformLoad(&blockExp);
  let inv = pow2(-e);
  let h0 = pcg(params.seed);
  for (var w = lo / 4u + lid; w * 4u < hi; w += 64u) {
    var word = 0u;
    for (var j = 0u; j < 4u; j++) {
      let i = w * 4u + j;
      if (i < hi) {
        let t = x[i] * inv;
        let q0 = floor(t);
        let frac = t - q0;
        let u = f32(pcg(h0 + i) >> 8u) * (1.0 / 16777216.0);
        var qi = i32(q0);
        if (u < frac) { qi += 1; }
        word |= (u32(qi) & 0xffu) << (8u * j);
      }
    }
    q[w] = word;
  }
}
