// sum_slices: out[i] = (ACCUMULATE ? out[i] : 0) + sum over s < S of slices[s*n + i] (+ bias[i % N]).
// The second half of a split-K matmul: each slice holds the product over one K range.
// One thread per element, workgroups laid out 2-D (see kernel.ts `grid`).

override ACCUMULATE: bool = false;
override HAS_BIAS: bool = false;

struct Params { n: u32, S: u32, N: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> slices: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.x + wg.y * nwg.x) * 256u + lid;
  if (i >= p.n) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.S; k++) { s += slices[k * p.n + i]; }
  if (HAS_BIAS) { s += bias[i % p.N]; }
  if (ACCUMULATE) { s += out[i]; }
  out[i] = s;
}
