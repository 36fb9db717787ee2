// int8 codec, decoding: out[i] = q[i] * 2^(code[block(i)] - 127), exact; one invocation per
// element. Layout as in peer-core/src/codecs/int8.ts (exponent bytes and int8 values packed
// four per u32, little-endian).

override BLOCK: u32 = 256u;

struct Params { n: u32, seed: u32, nblocks: u32, _p: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dexps: array<u32>;
@group(0) @binding(2) var<storage, read> dq: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn pow2(k: i32) -> f32 {
  return bitcast<f32>(u32(k + 127) << 23u);
}

@compute @workgroup_size(256)
fn dequantize(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.x + wg.y * nwg.x) * 256u + lid;
  if (i >= params.n) { return; }
  let b = i / BLOCK;
  let code = i32((dexps[b >> 2u] >> ((b & 3u) * 8u)) & 0xffu);
  let qi = (bitcast<i32>(dq[i >> 2u] << (24u - 8u * (i & 3u)))) >> 24u;
  out[i] = f32(qi) * pow2(code - 127);
}
