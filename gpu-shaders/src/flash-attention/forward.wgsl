// Fused causal multi-head self-attention, forward (FlashAttention-2 style). Specification:
// `flashAttentionForward` in @swarmgrad/peer-core/reference (flash-attention.ts).
// qkv (B,T,3C) = [q | k | v]; head h at channels h*hs..; out (B,T,C); lse (B,NH,T) = the
// logsumexp of each row's scaled scores. Nothing of size T×T is stored.
//
// One workgroup per (query block of BR rows, b*NH + h); one invocation per query row. The
// workgroup walks the key tiles of BC keys from key 0 up to its block's last row (tiles above
// the diagonal are never visited; the diagonal tile is masked per row). Each tile's K and V
// rows go to workgroup memory as vec4s; every invocation reads the same element at the same
// time (a broadcast: no bank conflicts). Per tile an invocation holds its BC scores in
// registers (loop order channel-outer, key-inner, so q is re-read per tile from global/L1
// instead of held in registers), takes the tile max, rescales its running sum l and its
// output accumulator o (HS4 vec4s in registers) by exp(m_old - m_new), and adds p·v.
//
// HS4 (head size in vec4s), BR and BC are compile-time constants that the wrapper
// substitutes (tiles.ts): function-scope arrays need constant sizes. Keep the spelling
// `const NAME: u32 = <n>u;`.

const HS4: u32 = 16u;
const BR: u32 = 64u;
const BC: u32 = 32u;
const NEG: f32 = -3.0e38;

struct Params { B: u32, T: u32, C: u32, NH: u32, hs: u32, nqb: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;

var<workgroup> ks: array<vec4<f32>, BC * HS4>;
var<workgroup> vs: array<vec4<f32>, BC * HS4>;

// Channels 4*d4..4*d4+3 of the qkv row segment starting at `base`; channels >= hs read as 0.
fn ldQkv(base: u32, d4: u32) -> vec4<f32> {
  let d = d4 * 4u;
  if (d + 3u < p.hs) {
    return vec4<f32>(qkv[base + d], qkv[base + d + 1u], qkv[base + d + 2u], qkv[base + d + 3u]);
  }
  var r = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (d + j < p.hs) { r[j] = qkv[base + d + j]; }
  }
  return r;
}

@compute @workgroup_size(BR)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bh = wg.y;
  let b = bh / p.NH;
  let h = bh % p.NH;
  let qb = p.nqb - 1u - wg.x; // the longest blocks (most key tiles) are dispatched first
  let t = qb * BR + lid;
  let valid = t < p.T;
  let tc = min(t, p.T - 1u);
  let C3 = 3u * p.C;
  let hs = p.hs;
  let scale = inverseSqrt(f32(hs));
  let qbase = (b * p.T + tc) * C3 + h * hs;

  var o: array<vec4<f32>, HS4>;
  var m = NEG;
  var l = 0.0;
  let kEnd = min(p.T, (qb + 1u) * BR);
  let ntiles = (kEnd + BC - 1u) / BC;
  for (var kt = 0u; kt < ntiles; kt++) {
    let k0 = kt * BC;
    workgroupBarrier();
    for (var i = lid; i < BC * HS4; i += BR) {
      let t2 = k0 + i / HS4;
      var kv = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (t2 < p.T) {
        let kb = (b * p.T + t2) * C3 + p.C + h * hs;
        kv = ldQkv(kb, i % HS4);
        vv = ldQkv(kb + p.C, i % HS4);
      }
      ks[i] = kv;
      vs[i] = vv;
    }
    workgroupBarrier();

    var s = array<f32, BC>();
    for (var d4 = 0u; d4 < HS4; d4++) {
      let q4 = ldQkv(qbase, d4);
      for (var c = 0u; c < BC; c++) { s[c] += dot(q4, ks[c * HS4 + d4]); }
    }
    var mt = m;
    for (var c = 0u; c < BC; c++) {
      s[c] = select(NEG, s[c] * scale, k0 + c <= t);
      mt = max(mt, s[c]);
    }
    let alpha = exp(m - mt);
    l *= alpha;
    for (var d4 = 0u; d4 < HS4; d4++) { o[d4] *= alpha; }
    for (var c = 0u; c < BC; c++) {
      let pc = exp(s[c] - mt);
      l += pc;
      for (var d4 = 0u; d4 < HS4; d4++) { o[d4] += pc * vs[c * HS4 + d4]; }
    }
    m = mt;
  }

  if (valid) {
    let inv = 1.0 / l;
    let ob = (b * p.T + t) * p.C + h * hs;
    for (var d4 = 0u; d4 < HS4; d4++) {
      let v = o[d4] * inv;
      for (var j = 0u; j < 4u; j++) {
        let d = d4 * 4u + j;
        if (d < hs) { out[ob + d] = v[j]; }
      }
    }
    lse[bh * p.T + t] = m + log(l);
  }
}
