// fp16 codec: pack f32 -> IEEE half (round to nearest even, saturating at ±65504) two per u32
// word (element 2j in the low half of word j), and unpack. Integer ops only, so the result is
// bit-identical to the CPU reference `f32BitsToF16` / `f16ToF32` in peer-core/src/codecs/fp16.ts.
// Entry points: `pack` (one invocation per output word), `unpack` (one per element).

struct Params { n: u32, words: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;        // pack: f32 bits; unpack: words
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;  // pack: words; unpack: f32 bits

fn f32ToF16(bits: u32) -> u32 {
  let sign = (bits >> 16u) & 0x8000u;
  let e = (bits >> 23u) & 0xffu;
  let m = bits & 0x7fffffu;
  if (e == 255u) { return sign | 0x7bffu; }
  if (e >= 113u) {
    let hm = m >> 13u;
    let rem = m & 0x1fffu;
    var h = ((e - 112u) << 10u) | hm;
    if (rem > 0x1000u || (rem == 0x1000u && (hm & 1u) == 1u)) { h += 1u; }
    if (h >= 0x7c00u) { h = 0x7bffu; }
    return sign | h;
  }
  if (e >= 102u) {
    let mm = m | 0x800000u;
    let shift = 126u - e;
    var h = mm >> shift;
    let rem = mm & ((1u << shift) - 1u);
    let half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (h & 1u) == 1u)) { h += 1u; }
    return sign | h;
  }
  return sign;
}

// Exact half -> f32 bit pattern (halves are all representable as normal or zero f32).
fn f16ToF32Bits(h: u32) -> u32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  var m = h & 0x3ffu;
  if (e == 0u) {
    if (m == 0u) { return sign; }
    // subnormal half: normalise
    var ee = 113u; // f32 exponent field for 2^-14
    loop {
      if ((m & 0x400u) != 0u) { break; }
      m = m << 1u;
      ee -= 1u;
    }
    return sign | (ee << 23u) | ((m & 0x3ffu) << 13u);
  }
  if (e == 31u) { return sign | 0x7f800000u | (m << 13u); }
  return sign | ((e + 112u) << 23u) | (m << 13u);
}

fn linearIndex(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wg.x + wg.y * nwg.x) * 256u + lid;
}

@compute @workgroup_size(256)
fn pack(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = linearIndex(wg, nwg, lid);
  if (w >= params.words) { return; }
  let i = 2u * w;
  var word = f32ToF16(src[i]);
  if (i + 1u < params.n) { word |= f32ToF16(src[i + 1u]) << 16u; }
  dst[w] = word;
}

@compute @workgroup_size(256)
fn unpack(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = linearIndex(wg, nwg, lid);
  if (i >= params.n) { return; }
  let h = (src[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu;
  dst[i] = f16ToF32Bits(h);
}
