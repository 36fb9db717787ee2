// Layernorm over the last dimension (llm.c), eps 1e-5, biased variance.
// `forward`:  one workgroup per row n: mean, rstd (two passes over the row, tree reductions
//             in workgroup memory), out = (inp - mean) * rstd * weight + bias.
// `backward`: one workgroup per row: dinp += rstd * (dnorm - mean(dnorm) - norm * mean(dnorm*norm)),
//             dnorm = weight * dout. The weight/bias gradients are a column reduction over
//             rows, done by `params_partial` + `params_final` (below) without atomics.

const EPS: f32 = 1e-5;
override WG: u32 = 256u;
override ROWS: u32 = 256u; // rows per chunk in params_partial

struct Params { N: u32, C: u32, nChunks: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // forward only
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // forward: out; backward: dinp
@group(0) @binding(5) var<storage, read_write> mean: array<f32>;
@group(0) @binding(6) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(7) var<storage, read> dout: array<f32>;       // backward only
@group(0) @binding(8) var<storage, read_write> scratch: array<f32>; // params passes

var<workgroup> red: array<f32, WG>;
var<workgroup> red2: array<f32, WG>;

fn sum2(a: f32, b: f32, lid: u32) -> vec2<f32> {
  red[lid] = a;
  red2[lid] = b;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red[lid] += red[lid + s];
      red2[lid] += red2[lid + s];
    }
    workgroupBarrier();
  }
  let r = vec2<f32>(red[0], red2[0]);
  workgroupBarrier();
  return r;
}

fn rowOf(wg: vec3<u32>, nwg: vec3<u32>) -> u32 { return wg.x + wg.y * nwg.x; }

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = rowOf(wg, nwg); // uniform across the workgroup
  if (n >= p.N) { return; }
  let x = n * p.C;
  var s = 0.0;
  for (var i = lid; i < p.C; i += WG) { s += inp[x + i]; }
  let m = sum2(s, 0.0, lid).x / f32(p.C);
  var v = 0.0;
  for (var i = lid; i < p.C; i += WG) {
    let d = inp[x + i] - m;
    v += d * d;
  }
  let var_ = sum2(v, 0.0, lid).x / f32(p.C);
  let r = 1.0 / sqrt(var_ + EPS);
  for (var i = lid; i < p.C; i += WG) {
    out[x + i] = (inp[x + i] - m) * r * weight[i] + bias[i];
  }
  if (lid == 0u) {
    mean[n] = m;
    rstd[n] = r;
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = rowOf(wg, nwg);
  if (n >= p.N) { return; }
  let x = n * p.C;
  let m = mean[n];
  let r = rstd[n];
  var a = 0.0;
  var b = 0.0;
  for (var i = lid; i < p.C; i += WG) {
    let norm = (inp[x + i] - m) * r;
    let dnorm = weight[i] * dout[x + i];
    a += dnorm;
    b += dnorm * norm;
  }
  let sums = sum2(a, b, lid) / f32(p.C);
  for (var i = lid; i < p.C; i += WG) {
    let norm = (inp[x + i] - m) * r;
    let dnorm = weight[i] * dout[x + i];
    out[x + i] = out[x + i] + (dnorm - sums.x - norm * sums.y) * r;
  }
}

// scratch (nChunks, 2, C): per chunk of ROWS rows, sum of dout*norm (dweight) and of dout (dbias).
@compute @workgroup_size(64)
fn params_partial(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let chunk = gid.y;
  if (c >= p.C) { return; }
  let r0 = chunk * ROWS;
  let r1 = min(r0 + ROWS, p.N);
  var dw = 0.0;
  var db = 0.0;
  for (var n = r0; n < r1; n++) {
    let norm = (inp[n * p.C + c] - mean[n]) * rstd[n];
    let d = dout[n * p.C + c];
    dw += d * norm;
    db += d;
  }
  scratch[(chunk * 2u) * p.C + c] = dw;
  scratch[(chunk * 2u + 1u) * p.C + c] = db;
}
