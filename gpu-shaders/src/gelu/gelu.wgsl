// GELU, tanh form (GPT-2 `gelu_new`): out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// `forward` writes out; `backward` accumulates dinp += gelu'(inp) * dout. One thread per
// element, workgroups laid out 2-D (see kernel.ts `grid`).

const GELU_SCALE: f32 = 0.7978845608028654; // sqrt(2/pi)

struct Params { N: u32, _a: u32, _b: u32, _c: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@group(0) @binding(3) var<storage, read> dout: array<f32>;

fn index(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wg.x + wg.y * nwg.x) * 256u + lid;
}

// tanh via exp, stable for large |u| (WGSL's tanh may return NaN for large inputs on some drivers).
fn tanh_stable(u: f32) -> f32 {
  let e = exp(-2.0 * abs(u));
  return sign(u) * (1.0 - e) / (1.0 + e);
}

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = index(wg, nwg, lid);
  if (i >= p.N) { return; }
  let x = inp[i];
  let cube = 0.044715 * x * x * x;
  out[i] = 0.5 * x * (1.0 + tanh_stable(GELU_SCALE * (x + cube)));
}

// Here `out` is dinp.
@compute @workgroup_size(256)
fn backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = index(wg, nwg, lid);
  if (i >= p.N) { return; }
  let x = inp[i];
  let cube = 0.044715 * x * x * x;
  let t = tanh_stable(GELU_SCALE * (x + cube));
  let sech2 = 1.0 - t * t;
  let local = 0.5 * (1.0 + t) + x * 0.5 * sech2 * GELU_SCALE * (1.0 + 3.0 * 0.044715 * x * x);
  out[i] = out[i] + local * dout[i];
}
