// sign codec, decoding: out[i] = bit(i) ? -scale[i / BLOCK] : scale[i / BLOCK]; one invocation
// per element. Layout as in peer-core/src/codecs/sign.ts.

override BLOCK: u32 = 256u;

struct Params { n: u32, nblocks: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scales: array<f32>;
@group(0) @binding(2) var<storage, read> bits: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.x + wg.y * nwg.x) * 256u + lid;
  if (i >= params.n) { return; }
  let s = scales[i / BLOCK];
  if (((bits[i >> 5u] >> (i & 31u)) & 1u) == 1u) { out[i] = -s; } else { out[i] = s; }
}
