// Optimizers over flat buffers, and the global gradient norm used for clipping.
// `norm_partial`: each workgroup sums grads[i]^2 over a grid-stride slice into partial[wg].
// `norm_final`:   one workgroup sums the partials: normSq[0] = sum (overwrites).
// `adamw`:        llm.c AdamW with decoupled weight decay and bias correction:
//                   g = grads*scale;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//                   params -= lr * ((m/bc1) / (sqrt(v/bc2) + eps) + wd * params)
// `sgd`:          PyTorch SGD with momentum: g = grads*scale + wd*params;
//                   velocity = momentum*velocity + g;  params -= lr*velocity
// scale = gradScale, times min(1, maxNorm / sqrt(normSq[0])) when CLIP (clipping on the GPU,
// with no read-back).

override WG: u32 = 256u;
override CLIP: bool = false;

struct Params { N: u32, nPartials: u32, _a: u32, _b: u32 }

// Per-step hyperparameters live in a small storage buffer that the caller rewrites each step
// (queue.writeBuffer), so a training loop creates no new uniform or bind group per step.
struct Hyper {
  lr: f32, beta1: f32, beta2: f32, eps: f32,
  wd: f32, bc1: f32, bc2: f32, gradScale: f32,
  maxNorm: f32, momentum: f32, _c: f32, _d: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> params: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;   // adamw: m; sgd: velocity
@group(0) @binding(4) var<storage, read_write> v: array<f32>;   // adamw only
@group(0) @binding(5) var<storage, read_write> partial: array<f32>; // norm passes
@group(0) @binding(6) var<storage, read_write> normSq: array<f32>;  // norm_final; read when CLIP
@group(0) @binding(7) var<storage, read> hp: Hyper;                // adamw, sgd

var<workgroup> red: array<f32, WG>;

fn reduceSum(x: f32, lid: u32) -> f32 {
  red[lid] = x;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  return red[0];
}

@compute @workgroup_size(WG)
fn norm_partial(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  let stride = nwg.x * WG;
  for (var i = wg.x * WG + lid; i < p.N; i += stride) {
    let g = grads[i];
    s += g * g;
  }
  let total = reduceSum(s, lid);
  if (lid == 0u) { partial[wg.x] = total; }
}

@compute @workgroup_size(WG)
fn norm_final(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.nPartials; i += WG) { s += partial[i]; }
  let total = reduceSum(s, lid);
  if (lid == 0u) { normSq[0] = total; }
}

fn gradScale() -> f32 {
  let ns = normSq[0]; // bound in every optimizer pass (a placeholder when not clipping)
  if (CLIP) {
    let norm = sqrt(ns);
    if (norm > hp.maxNorm) { return hp.gradScale * hp.maxNorm / norm; }
  }
  return hp.gradScale;
}

fn index(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 { return (wg.x + wg.y * nwg.x) * WG + lid; }

@compute @workgroup_size(WG)
fn adamw(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = index(wg, nwg, lid);
  if (i >= p.N) { return; }
  let g = grads[i] * gradScale();
  let mi = hp.beta1 * m[i] + (1.0 - hp.beta1) * g;
  let vi = hp.beta2 * v[i] + (1.0 - hp.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let mhat = mi / hp.bc1;
  let vhat = vi / hp.bc2;
  params[i] = params[i] - hp.lr * (mhat / (sqrt(vhat) + hp.eps) + hp.wd * params[i]);
}

@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = index(wg, nwg, lid);
  if (i >= p.N) { return; }
  let g = grads[i] * gradScale() + hp.wd * params[i];
  let vel = hp.momentum * m[i] + g;
  m[i] = vel;
  params[i] = params[i] - hp.lr * vel;
}
