// Softmax + cross-entropy over the vocabulary (llm.c). A negative target means "no loss here"
// (loss 0, no gradient); a target >= V gives a NaN loss so that bad data is visible.
// `forward`:  one workgroup per row n: max and sum of exp in one pass (online softmax: each
//             thread keeps a running (max, sum), merged by a tree reduction in workgroup
//             memory), then probs (N,V) = softmax(logits) in a second pass;
//             losses[n] = log(sum) + max - logits[n, target].
// `backward`: one thread per (n, v): dlogits[n,v] += (probs[n,v] - [v == target]) * dlosses[n].

override WG: u32 = 256u;

struct Params { N: u32, V: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;           // forward: logits; backward: probs
@group(0) @binding(3) var<storage, read_write> y: array<f32>;     // forward: probs; backward: dlogits
@group(0) @binding(4) var<storage, read_write> losses: array<f32>; // forward only
@group(0) @binding(5) var<storage, read> dlosses: array<f32>;     // backward only

var<workgroup> red: array<f32, WG>;
var<workgroup> red2: array<f32, WG>;

// Merge per-thread (max, sum of exp(x - max)) pairs over the workgroup.
fn reduceMaxSum(m: f32, s: f32, lid: u32) -> vec2<f32> {
  red[lid] = m;
  red2[lid] = s;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) {
      let m1 = red[lid];
      let m2 = red[lid + k];
      let mm = max(m1, m2);
      red2[lid] = red2[lid] * exp(m1 - mm) + red2[lid + k] * exp(m2 - mm);
      red[lid] = mm;
    }
    workgroupBarrier();
  }
  let r = vec2<f32>(red[0], red2[0]);
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = wg.x + wg.y * nwg.x;
  if (n >= p.N) { return; }
  let r = n * p.V;
  var mx = -3.4028e38;
  var s = 0.0;
  for (var i = lid; i < p.V; i += WG) {
    let v = x[r + i];
    if (v > mx) {
      s = s * exp(mx - v) + 1.0;
      mx = v;
    } else {
      s += exp(v - mx);
    }
  }
  let ms = reduceMaxSum(mx, s, lid);
  mx = ms.x;
  s = ms.y;
  let inv = 1.0 / s;
  for (var i = lid; i < p.V; i += WG) { y[r + i] = exp(x[r + i] - mx) * inv; }
  if (lid == 0u) {
    let t = targets[n];
    if (t < 0) {
      losses[n] = 0.0;
    } else if (u32(t) >= p.V) {
      losses[n] = bitcast<f32>(0x7fc00000u | (p.V & 0u)); // a runtime NaN (a constant NaN is rejected)
    } else {
      losses[n] = log(s) + mx - x[r + u32(t)];
    }
  }
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
  let v = gid.x;
  let n = wg.y + wg.z * 65535u;
  if (v >= p.V || n >= p.N) { return; }
  let t = targets[n];
  if (t < 0) { return; }
  let i = n * p.V + v;
  let ind = select(0.0, 1.0, u32(t) == v);
  y[i] = y[i] + (x[i] - ind) * dlosses[n];
}
