// Elementwise helpers around the tensor-core matmul (mixed.ts), one thread per element of
// the written array, workgroups laid out 2-D (kernel.ts `grid`):
// - `bias_rows`: dst (R,C) = bias broadcast over rows (+ dst when ACCUMULATE). The matmul then
//   accumulates A·B on top, so out = A·B + bias with the bias exact in f32.
// - `absmax`: amax[0] = max |src| over R·C elements (as f32 bits; the caller zeroes it first).
// - `pad`: dst (Rp,Cp) = src (R,C) with zeros in the rows >= R and columns >= C, so that a
//   product over a dimension that is not a multiple of 4 can run on vec4-able rows; with
//   SCALED, times the power of two `scale_of(amax)` that brings max |src| into [2^14, 2^15)
//   (per-tensor gradient scaling: f16 keeps small gradients that would flush to zero).
// - `add_cols`: dst (R,C) += sum over SLICES slices s of src (R,Cp)[:, :C] (slice s starts at
//   s·Rp·Cp: split-K partial products), folding a padded product back; with SCALED, times
//   1 / scale_of(amax) (exact: a power of two).
// NOT here: the matmul itself (matmul_tc.wgsl), anything in f16.

struct Params { R: u32, C: u32, Rp: u32, Cp: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@group(0) @binding(3) var<storage, read_write> amax: array<atomic<u32>>;

override ACCUMULATE: bool = false;
override SCALED: bool = false;
override SLICES: u32 = 1u;

var<workgroup> wmax: atomic<u32>;

// Biased exponent (1..253) of the scale 2^(14 - floor(log2 m)) for m = max |src|; m = 0 gives the
// largest, inf/NaN a small one (they stay inf/NaN, as in fp32).
fn scale_exp() -> u32 {
  let e = (atomicLoad(&amax[0]) >> 23u) & 0xffu;
  return u32(clamp(268 - i32(e), 1, 253));
}
fn scale_of() -> f32 {
  return bitcast<f32>(scale_exp() << 23u);
}
fn inv_scale_of() -> f32 {
  return bitcast<f32>((254u - scale_exp()) << 23u);
}

fn index(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wg.x + wg.y * nwg.x) * 256u + lid;
}

@compute @workgroup_size(256)
fn bias_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = index(wg, nwg, lid);
  if (i >= p.R * p.C) { return; }
  var v = src[i % p.C];
  if (ACCUMULATE) { v += dst[i]; }
  dst[i] = v;
}

@compute @workgroup_size(256)
fn pad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = index(wg, nwg, lid);
  if (i >= p.Rp * p.Cp) { return; }
  let r = i / p.Cp;
  let c = i % p.Cp;
  var v = 0.0;
  if (r < p.R && c < p.C) { v = src[r * p.C + c]; }
  if (SCALED) { v *= scale_of(); }
  dst[i] = v;
}

@compute @workgroup_size(256)
fn add_cols(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = index(wg, nwg, lid);
  if (i >= p.R * p.C) { return; }
  let r = i / p.C;
  let c = i % p.C;
  var v = 0.0;
  for (var s = 0u; s < SLICES; s++) {
    v += src[s * p.Rp * p.Cp + r * p.Cp + c];
  }
  if (SCALED) { v *= inv_scale_of(); }
  dst[i] = dst[i] + v;
}

// Grid-stride over R·C elements; one global atomic per workgroup.
@compute @workgroup_size(256)
fn absmax(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = p.R * p.C;
  let stride = nwg.x * nwg.y * 256u;
  var m = 0u;
  for (var i = index(wg, nwg, lid); i < n; i += stride) {
    m = max(m, bitcast<u32>(abs(src[i])));
  }
  if (lid == 0u) { atomicStore(&wmax, 0u); }
  workgroupBarrier();
  atomicMax(&wmax, m);
  workgroupBarrier();
  if (lid == 0u) { atomicMax(&amax[0], atomicLoad(&wmax)); }
}
