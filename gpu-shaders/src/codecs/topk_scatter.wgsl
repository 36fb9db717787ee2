// top-k compaction, step 2: element i is kept when key(i) > T, or key(i) == T and it is among
// the first `ties` such elements in index order (its global tie rank = the chunk's tie offset +
// its rank inside the chunk, from a workgroup prefix sum). Kept elements go to
// out position = chunk output offset + rank among kept in the chunk, so indices come out
// ascending, exactly as `topkIndices` in peer-core/src/codecs/topk.ts orders them.
// Also writes the error-feedback residual: 0 where kept, p_i elsewhere.

struct Params { n: u32, T: u32, ties: u32, _p: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> p: array<f32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;   // 2 per chunk: output offset, tie offset
@group(0) @binding(3) var<storage, read_write> idx: array<u32>;
@group(0) @binding(4) var<storage, read_write> vals: array<f32>;
@group(0) @binding(5) var<storage, read_write> residual: array<f32>;

var<workgroup> scan: array<u32, 256>;

// Inclusive prefix sum of `v` over the workgroup (Hillis–Steele); returns this lane's value.
fn prefixSum(lid: u32, v: u32) -> u32 {
  scan[lid] = v;
  workgroupBarrier();
  for (var s = 1u; s < 256u; s <<= 1u) {
    var add = 0u;
    if (lid >= s) { add = scan[lid - s]; }
    workgroupBarrier();
    scan[lid] += add;
    workgroupBarrier();
  }
  let r = scan[lid];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let chunk = wg.x + wg.y * nwg.x;
  let i = chunk * 256u + lid;
  let inside = i < params.n;
  var key = 0u;
  var v = 0.0;
  if (inside) {
    v = p[i];
    key = bitcast<u32>(v) & 0x7fffffffu;
  }
  let isTie = inside && key == params.T;
  let tieIncl = prefixSum(lid, select(0u, 1u, isTie));
  var kept = inside && key > params.T;
  if (isTie) {
    let rank = offsets[2u * chunk + 1u] + tieIncl - 1u;
    kept = rank < params.ties;
  }
  let keptIncl = prefixSum(lid, select(0u, 1u, kept));
  if (kept) {
    let pos = offsets[2u * chunk] + keptIncl - 1u;
    idx[pos] = i;
    vals[pos] = v;
  }
  if (inside) {
    if (kept) { residual[i] = 0.0; } else { residual[i] = v; }
  }
}
