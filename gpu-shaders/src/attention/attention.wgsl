// Causal multi-head self-attention, unfused (llm.c attention_forward/backward).
// qkv (B,T,3C) = [q | k | v]; head h uses channels h*hs..(h+1)*hs-1 of each; scale 1/sqrt(hs).
// preatt, att: (B,NH,T,T); entries above the diagonal are written as 0.
//
// `forward`:   one workgroup per query row (b,h,t): scores q·k for t2 <= t (threads over t2),
//              max and sum (workgroup reductions), normalized probabilities, then out = att·v
//              (threads over channels, reading the row back after a storage barrier).
// `backward_q`: one workgroup per query row (b,h,t): datt[t2] += dout·v[t2];
//              dpreatt[t2] += att[t2] (datt[t2] - sum att·datt); dq += scale * sum dpreatt·k.
// `backward_kv`: one workgroup per key row (b,h,t2), run after backward_q:
//              dk[t2] += scale * sum_{t>=t2} dpreatt[t,t2] q[t];  dv[t2] += sum_{t>=t2} att[t,t2] dout[t].
// Splitting the backward by query rows and key rows gives each output one writer: no atomics.
//
// The matmul formulation (attention.ts, the default) runs the products as batched matmuls
// (matmul_blocked*.wgsl, one product per head) and only the row-wise softmax steps here:
// `softmax_rows`:     att = causal softmax of the scaled scores already in preatt; masked
//                     entries of att and preatt become 0.
// `softmax_bwd_rows`: datt[t2] += tmp[t2] (tmp = dout·v from a matmul) for t2 <= t, then
//                     dpreatt[t2] += att[t2] (datt[t2] - sum att·datt) for t2 <= t.

override WG: u32 = 64u;
const MAX_HS: u32 = 256u;

struct Params { B: u32, T: u32, C: u32, NH: u32, hs: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;     // forward only
@group(0) @binding(3) var<storage, read_write> preatt: array<f32>;  // forward: preatt; backward: dpreatt
@group(0) @binding(4) var<storage, read_write> att: array<f32>;     // read in backward
@group(0) @binding(5) var<storage, read_write> datt: array<f32>;    // backward only
@group(0) @binding(6) var<storage, read> dout: array<f32>;          // backward only
@group(0) @binding(7) var<storage, read_write> dqkv: array<f32>;    // backward only
@group(0) @binding(8) var<storage, read> tmp: array<f32>;           // softmax_bwd_rows only

var<workgroup> red: array<f32, WG>;
var<workgroup> vecs: array<f32, MAX_HS>;

fn reduce(v: f32, lid: u32, isMax: bool) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      if (isMax) { red[lid] = max(red[lid], red[lid + s]); } else { red[lid] += red[lid + s]; }
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

// (b, h, t) of this workgroup's row; rows are numbered ((b*NH + h)*T + t).
fn rowIndex(wg: vec3<u32>, nwg: vec3<u32>) -> u32 { return wg.x + wg.y * nwg.x; }

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wg, nwg);
  if (row >= p.B * p.NH * p.T) { return; }
  let t = row % p.T;
  let bh = row / p.T;
  let h = bh % p.NH;
  let b = bh / p.NH;
  let C3 = 3u * p.C;
  let hs = p.hs;
  let scale = 1.0 / sqrt(f32(hs));
  let q = (b * p.T + t) * C3 + h * hs;
  for (var i = lid; i < hs; i += WG) { vecs[i] = qkv[q + i]; }
  workgroupBarrier();
  let rowOff = row * p.T;
  var mx = -3.4028e38;
  for (var t2 = lid; t2 <= t; t2 += WG) {
    let k = (b * p.T + t2) * C3 + h * hs + p.C;
    var s = 0.0;
    for (var i = 0u; i < hs; i++) { s += vecs[i] * qkv[k + i]; }
    s *= scale;
    preatt[rowOff + t2] = s;
    mx = max(mx, s);
  }
  mx = reduce(mx, lid, true);
  var sum = 0.0;
  for (var t2 = lid; t2 <= t; t2 += WG) {
    let e = exp(preatt[rowOff + t2] - mx);
    att[rowOff + t2] = e;
    sum += e;
  }
  sum = reduce(sum, lid, false);
  let inv = 1.0 / sum;
  for (var t2 = lid; t2 < p.T; t2 += WG) {
    if (t2 <= t) {
      att[rowOff + t2] = att[rowOff + t2] * inv;
    } else {
      att[rowOff + t2] = 0.0;
      preatt[rowOff + t2] = 0.0;
    }
  }
  storageBarrier();
  workgroupBarrier();
  let o = (b * p.T + t) * p.C + h * hs;
  for (var i = lid; i < hs; i += WG) {
    var acc = 0.0;
    for (var t2 = 0u; t2 <= t; t2++) {
      acc += att[rowOff + t2] * qkv[(b * p.T + t2) * C3 + h * hs + 2u * p.C + i];
    }
    out[o + i] = acc;
  }
}

@compute @workgroup_size(WG)
fn backward_q(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wg, nwg);
  if (row >= p.B * p.NH * p.T) { return; }
  let t = row % p.T;
  let bh = row / p.T;
  let h = bh % p.NH;
  let b = bh / p.NH;
  let C3 = 3u * p.C;
  let hs = p.hs;
  let scale = 1.0 / sqrt(f32(hs));
  let o = (b * p.T + t) * p.C + h * hs;
  for (var i = lid; i < hs; i += WG) { vecs[i] = dout[o + i]; }
  workgroupBarrier();
  let rowOff = row * p.T;
  // datt[t2] += dout · v[t2]; partial sum of att * datt
  var dot = 0.0;
  for (var t2 = lid; t2 <= t; t2 += WG) {
    let v = (b * p.T + t2) * C3 + h * hs + 2u * p.C;
    var d = 0.0;
    for (var i = 0u; i < hs; i++) { d += vecs[i] * qkv[v + i]; }
    let da = datt[rowOff + t2] + d;
    datt[rowOff + t2] = da;
    dot += att[rowOff + t2] * da;
  }
  dot = reduce(dot, lid, false);
  for (var t2 = lid; t2 <= t; t2 += WG) {
    preatt[rowOff + t2] = preatt[rowOff + t2] + att[rowOff + t2] * (datt[rowOff + t2] - dot);
  }
  storageBarrier();
  workgroupBarrier();
  let q = (b * p.T + t) * C3 + h * hs;
  for (var i = lid; i < hs; i += WG) {
    var acc = 0.0;
    for (var t2 = 0u; t2 <= t; t2++) {
      acc += preatt[rowOff + t2] * qkv[(b * p.T + t2) * C3 + h * hs + p.C + i];
    }
    dqkv[q + i] = dqkv[q + i] + acc * scale;
  }
}

@compute @workgroup_size(WG)
fn backward_kv(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wg, nwg); // key row (b, h, t2)
  if (row >= p.B * p.NH * p.T) { return; }
  let t2 = row % p.T;
  let bh = row / p.T;
  let h = bh % p.NH;
  let b = bh / p.NH;
  let C3 = 3u * p.C;
  let hs = p.hs;
  let scale = 1.0 / sqrt(f32(hs));
  let base = bh * p.T * p.T; // (b,h) block of the (T,T) matrices
  let k = (b * p.T + t2) * C3 + h * hs + p.C;
  for (var i = lid; i < hs; i += WG) {
    var dk = 0.0;
    var dv = 0.0;
    for (var t = t2; t < p.T; t++) {
      let e = base + t * p.T + t2;
      dk += preatt[e] * qkv[(b * p.T + t) * C3 + h * hs + i];
      dv += att[e] * dout[(b * p.T + t) * p.C + h * hs + i];
    }
    dqkv[k + i] = dqkv[k + i] + dk * scale;
    dqkv[k + p.C + i] = dqkv[k + p.C + i] + dv;
  }
}

@compute @workgroup_size(WG)
fn softmax_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wg, nwg);
  if (row >= p.B * p.NH * p.T) { return; }
  let t = row % p.T;
  let rowOff = row * p.T;
  var mx = -3.4028e38;
  for (var t2 = lid; t2 <= t; t2 += WG) { mx = max(mx, preatt[rowOff + t2]); }
  mx = reduce(mx, lid, true);
  var sum = 0.0;
  for (var t2 = lid; t2 <= t; t2 += WG) {
    let e = exp(preatt[rowOff + t2] - mx);
    att[rowOff + t2] = e;
    sum += e;
  }
  sum = reduce(sum, lid, false);
  let inv = 1.0 / sum;
  for (var t2 = lid; t2 < p.T; t2 += WG) {
    if (t2 <= t) {
      att[rowOff + t2] = att[rowOff + t2] * inv;
    } else {
      att[rowOff + t2] = 0.0;
      preatt[rowOff + t2] = 0.0;
    }
  }
}

@compute @workgroup_size(WG)
fn softmax_bwd_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = rowIndex(wg, nwg);
  if (row >= p.B * p.NH * p.T) { return; }
  let t = row % p.T;
  let rowOff = row * p.T;
  var dot = 0.0;
  for (var t2 = lid; t2 <= t; t2 += WG) {
    let d = datt[rowOff + t2] + tmp[rowOff + t2];
    datt[rowOff + t2] = d;
    dot += att[rowOff + t2] * d;
  }
  dot = reduce(dot, lid, false);
  for (var t2 = lid; t2 <= t; t2 += WG) {
    preatt[rowOff + t2] = preatt[rowOff + t2] + att[rowOff + t2] * (datt[rowOff + t2] - dot);
  }
}
