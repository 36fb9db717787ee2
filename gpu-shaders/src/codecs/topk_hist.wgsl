// top-k threshold selection, radix-select pass: 256-bin histogram of one 8-bit digit of the
// keys key(i) = bits(|p_i|) (monotone in |p_i| for finite values), counting only keys whose
// higher digits equal the prefix found by the previous passes ((key & mask) == prefix).
// Four passes (shift 24, 16, 8, 0) give the exact k-th largest key T. Each workgroup builds a
// private histogram of 1024 elements and adds it into the global one (zeroed before each pass).

struct Params { n: u32, shift: u32, prefix: u32, mask: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> p: array<f32>;
@group(0) @binding(2) var<storage, read_write> hist: array<atomic<u32>>;

var<workgroup> local: array<atomic<u32>, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  atomicStore(&local[lid], 0u);
  workgroupBarrier();
  let base = (wg.x + wg.y * nwg.x) * 1024u;
  for (var j = 0u; j < 4u; j++) {
    let i = base + j * 256u + lid;
    if (i < params.n) {
      let key = bitcast<u32>(p[i]) & 0x7fffffffu;
      if ((key & params.mask) == params.prefix) {
        atomicAdd(&local[(key >> params.shift) & 0xffu], 1u);
      }
    }
  }
  workgroupBarrier();
  let c = atomicLoad(&local[lid]);
  if (c > 0u) { atomicAdd(&hist[lid], c); }
}
