// top-k compaction, step 1: per chunk of 256 elements, how many keys are above the threshold T
// and how many equal it (counts[2*chunk], counts[2*chunk + 1]). The wrapper turns these into
// each chunk's output offset and tie offset (an exclusive scan over chunks).

struct Params { n: u32, T: u32, ties: u32, _p: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> p: array<f32>;
@group(0) @binding(2) var<storage, read_write> counts: array<u32>;

var<workgroup> above: atomic<u32>;
var<workgroup> tie: atomic<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) {
    atomicStore(&above, 0u);
    atomicStore(&tie, 0u);
  }
  workgroupBarrier();
  let chunk = wg.x + wg.y * nwg.x;
  let i = chunk * 256u + lid;
  if (i < params.n) {
    let key = bitcast<u32>(p[i]) & 0x7fffffffu;
    if (key > params.T) { atomicAdd(&above, 1u); }
    if (key == params.T) { atomicAdd(&tie, 1u); }
  }
  workgroupBarrier();
  if (lid == 0u && chunk * 256u < params.n) {
    counts[2u * chunk] = atomicLoad(&above);
    counts[2u * chunk + 1u] = atomicLoad(&tie);
  }
}
