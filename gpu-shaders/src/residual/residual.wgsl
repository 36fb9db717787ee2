// Residual add. `forward`: out = a + b. `backward`: da += dout and db += dout.
// One thread per element, workgroups laid out 2-D (see kernel.ts `grid`).

struct Params { N: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;       // forward: a;  backward: dout
@group(0) @binding(2) var<storage, read_write> y: array<f32>; // forward: out; backward: da
@group(0) @binding(3) var<storage, read> b: array<f32>;       // forward only
@group(0) @binding(4) var<storage, read_write> db: array<f32>; // backward only

fn index(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wg.x + wg.y * nwg.x) * 256u + lid;
}

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = index(wg, nwg, lid);
  if (i >= p.N) { return; }
  y[i] = x[i] + b[i];
}

@compute @workgroup_size(256)
fn backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = index(wg, nwg, lid);
  if (i >= p.N) { return; }
  let d = x[i];
  y[i] = y[i] + d;
  db[i] = db[i] + d;
}
