// Error-feedback update shared by the biased codecs (EF-SGD, Karimireddy et al. 2019), one
// invocation per element:
//   `accumulate`: p = x + r            (what gets compressed this step)
//   `update`:     r = p - decoded      (what the compressor dropped, carried to the next step)
// Same f32 operations as BaseCodec.compress in peer-core/src/codecs/base.ts.

struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;        // accumulate: x;  update: p
@group(0) @binding(2) var<storage, read> b: array<f32>;        // accumulate: r;  update: decoded
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // accumulate: p;  update: r

fn idx(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wg.x + wg.y * nwg.x) * 256u + lid;
}

@compute @workgroup_size(256)
fn accumulate(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = idx(wg, nwg, lid);
  if (i < params.n) { out[i] = a[i] + b[i]; }
}

@compute @workgroup_size(256)
fn update(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = idx(wg, nwg, lid);
  if (i < params.n) { out[i] = a[i] - b[i]; }
}
