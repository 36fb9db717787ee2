// colsum_final: out (C) += sum over chunks of scratch (nChunks, C); second pass of colsum.wgsl.

struct Params { R: u32, C: u32, nChunks: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scratch: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var s = 0.0;
  for (var i = 0u; i < p.nChunks; i++) { s += scratch[i * p.C + c]; }
  out[c] = out[c] + s;
}
