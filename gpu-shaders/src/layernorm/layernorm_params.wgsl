// Second pass of the layernorm weight/bias gradients: dweight[c] += sum over chunks of
// scratch[chunk,0,c], dbias[c] += sum of scratch[chunk,1,c] (see layernorm.wgsl params_partial).

struct Params { N: u32, C: u32, nChunks: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scratch: array<f32>;
@group(0) @binding(2) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(3) var<storage, read_write> dbias: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var dw = 0.0;
  var db = 0.0;
  for (var k = 0u; k < p.nChunks; k++) {
    dw += scratch[(k * 2u) * p.C + c];
    db += scratch[(k * 2u + 1u) * p.C + c];
  }
  dweight[c] = dweight[c] + dw;
  dbias[c] = dbias[c] + db;
}
