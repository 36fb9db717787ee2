// colsum: out (C) += sum over rows r of inp (R,C) — e.g. the bias gradient of a matmul.
// Two passes, no atomics, deterministic: `partial` sums chunks of ROWS rows per column into
// scratch (nChunks, C); `final` adds the chunk sums into out. Any R and C.

override ROWS: u32 = 256u;

struct Params { R: u32, C: u32, nChunks: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> scratch: array<f32>;

@compute @workgroup_size(64)
fn partial(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let chunk = gid.y;
  if (c >= p.C) { return; }
  let r0 = chunk * ROWS;
  let r1 = min(r0 + ROWS, p.R);
  var s = 0.0;
  for (var r = r0; r < r1; r++) { s += inp[r * p.C + c]; }
  scratch[chunk * p.C + c] = s;
}
