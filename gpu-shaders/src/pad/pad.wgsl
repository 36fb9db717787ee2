// pad: out (Rp, Cp), packed, = inp (R, C) read at element offset `off` with row stride `ld`,
// and zeros outside [0, R) x [0, C). Cp is a multiple of 4 (out is written as vec4s). The
// matmul uses it to hand the vec4 blocked kernel operands whose contiguous dimension or row
// stride is not a multiple of 4 (e.g. the LM head's dlogits rows of 50257).

struct Params { R: u32, C: u32, Rp: u32, Cp: u32, ld: u32, off: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = (wg.x + wg.y * nwg.x) * 256u + li; // vec4 index into out
  let cp4 = p.Cp / 4u;
  if (i >= p.Rp * cp4) { return; }
  let r = i / cp4;
  let c = (i % cp4) * 4u;
  var v = vec4<f32>(0.0);
  if (r < p.R) {
    let base = p.off + r * p.ld + c;
    if (c < p.C) { v.x = inp[base]; }
    if (c + 1u < p.C) { v.y = inp[base + 1u]; }
    if (c + 2u < p.C) { v.z = inp[base + 2u]; }
    if (c + 3u < p.C) { v.w = inp[base + 3u]; }
  }
  out[i] = v;
}
