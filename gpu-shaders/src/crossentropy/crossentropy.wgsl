// Softmax + cross-entropy over the vocabulary (llm.c). A negative target means "no loss here"
// (loss 0, no gradient); a target >= V gives a NaN loss so that bad data is visible.
// `forward`:  one workgroup per row n: max, sum of exp (tree reductions in workgroup memory),
//             probs (N,V) = softmax(logits), losses[n] = log(sum) + max - logits[n, target].
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

fn reduceMax(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduceSum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = wg.x + wg.y * nwg.x;
  if (n >= p.N) { return; }
  let r = n * p.V;
  var mx = -3.4028e38;
  for (var i = lid; i < p.V; i += WG) { mx = max(mx, x[r + i]); }
  mx = reduceMax(mx, lid);
  var s = 0.0;
  for (var i = lid; i < p.V; i += WG) {
    let e = exp(x[r + i] - mx);
    y[r + i] = e;
    s += e;
  }
  s = reduceSum(s, lid);
  let inv = 1.0 / s;
  for (var i = lid; i < p.V; i += WG) { y[r + i] = y[r + i] * inv; }
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
