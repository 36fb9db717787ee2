// Token + position embedding (llm.c encoder).
// `forward`:   out (B,T,C) = wte[inp[b,t]] + wpe[t]   (a token id outside [0,V) gives NaN).
// `dwpe`:      dwpe[t,c] += sum_b dout[b,t,c]          (one thread per (t,c)).
// `dwte`:      dwte[v,c] += sum over positions i with inp[i] == v of dout[i,c].
//   No float atomics in WGSL, so the vocabulary is split into G groups: thread (c, g) scans
//   every position and handles the tokens with v % G == g. Each dwte element has exactly one
//   writer, so the result is deterministic. Threads of a workgroup share g, so the branch is
//   uniform across the workgroup.

struct Params { B: u32, T: u32, C: u32, V: u32, G: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<i32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;        // forward: wte; backward: dout
@group(0) @binding(3) var<storage, read> wpe: array<f32>;      // forward only
@group(0) @binding(4) var<storage, read_write> y: array<f32>;  // forward: out; dwte / dwpe

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.x + wg.y * nwg.x) * 256u + lid;
  if (i >= p.B * p.T * p.C) { return; }
  let bt = i / p.C;
  let c = i % p.C;
  let t = bt % p.T;
  let tok = inp[bt];
  if (tok < 0 || u32(tok) >= p.V) {
    y[i] = bitcast<f32>(0x7fc00000u | (p.C & 0u)); // NaN marks a bad token id (built at run time: a constant NaN is rejected)
    return;
  }
  y[i] = x[u32(tok) * p.C + c] + wpe[t * p.C + c];
}

@compute @workgroup_size(64)
fn dwpe(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let t = gid.y;
  if (c >= p.C) { return; }
  var s = 0.0;
  for (var b = 0u; b < p.B; b++) { s += x[(b * p.T + t) * p.C + c]; }
  y[t * p.C + c] = y[t * p.C + c] + s;
}

@compute @workgroup_size(64)
fn dwte(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let g = gid.y;
  let inside = c < p.C;
  let n = p.B * p.T;
  for (var i = 0u; i < n; i++) {
    let tok = inp[i];
    if (tok < 0 || u32(tok) >= p.V || u32(tok) % p.G != g || !inside) { continue; }
    let j = u32(tok) * p.C + c;
    y[j] = y[j] + x[i * p.C + c];
  }
}
