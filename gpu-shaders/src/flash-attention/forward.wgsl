// Fused causal multi-head self-attention, forward (FlashAttention-2 style). Specification:
// `flashAttentionForward` in @swarmgrad/peer-core/reference (flash-attention.ts).
// qkv (B,T,3C) = [q | k | v]; head h at channels h*hs..; out (B,T,C); lse (B,NH,T) = the
// logsumexp of each row's scaled scores. Nothing of size T×T is stored.
//
// One workgroup per (query block of BR rows, b*NH + h); one invocation per query row, which
// holds its q (pre-scaled) and its output accumulator o in registers (HS4 vec4s each). The
// workgroup walks the key tiles of BC keys from key 0 up to its block's last row (tiles above
// the diagonal are never visited; keys past a row are masked). Each tile's K and V rows go to
// workgroup memory as vec4s and every invocation reads the same element at the same time (a
// broadcast: no bank conflicts). Keys are taken 4 at a time: 4 scores as one vec4, then the
// online softmax: when the running max m grows, rescale the running sum l and o by
// exp(m_old - m_new) (skipped when it does not grow, which is most of the time), then
// o += p·v for the 4 keys.
//
// HS4 (head size in vec4s, even), BR and BC (a multiple of 4) are compile-time constants the
// wrapper substitutes (tiles.ts; keep the spelling `const NAME: u32 = <n>u;`), and it writes
// out every loop marked `// @unroll` (the NVIDIA compiler keeps loop-indexed arrays in memory,
// not registers), so q[i] and o[i] are indexed by constants.

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

  var q: array<vec4<f32>, HS4>;
  // @unroll
  for (var i = 0u; i < HS4; i++) {
    q[i] = ldQkv(qbase, i) * scale;
  }
  var o: array<vec4<f32>, HS4>;
  var m = NEG;
  var l = 0.0;
  let kEnd = min(p.T, (qb + 1u) * BR);
  let ntiles = (kEnd + BC - 1u) / BC;
  for (var kt = 0u; kt < ntiles; kt++) {
    let k0 = kt * BC;
    workgroupBarrier();
    for (var e = lid; e < BC * HS4; e += BR) {
      let t2 = k0 + e / HS4;
      var kv = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (t2 < p.T) {
        let kb = (b * p.T + t2) * C3 + p.C + h * hs;
        kv = ldQkv(kb, e % HS4);
        vv = ldQkv(kb + p.C, e % HS4);
      }
      ks[e] = kv;
      vs[e] = vv;
    }
    workgroupBarrier();

    for (var c = 0u; c < BC; c += 4u) {
      var s = vec4<f32>(0.0);
      // @unroll
      for (var i = 0u; i < HS4; i++) {
        let qi = q[i];
        s += vec4<f32>(dot(qi, ks[c * HS4 + i]), dot(qi, ks[(c + 1u) * HS4 + i]), dot(qi, ks[(c + 2u) * HS4 + i]), dot(qi, ks[(c + 3u) * HS4 + i]));
      }
      let keep = vec4<u32>(k0 + c) + vec4<u32>(0u, 1u, 2u, 3u) <= vec4<u32>(t);
      s = select(vec4<f32>(NEG), s, keep);
      let mc = max(max(s.x, s.y), max(s.z, s.w));
      if (mc > m) {
        let alpha = exp(m - mc);
        l *= alpha;
        // @unroll
        for (var i = 0u; i < HS4; i++) {
          o[i] *= alpha;
        }
        m = mc;
      }
      let pv = select(vec4<f32>(0.0), exp(s - vec4<f32>(m)), keep);
      l += pv.x + pv.y + pv.z + pv.w;
      // @unroll
      for (var i = 0u; i < HS4; i++) {
        o[i] += pv.x * vs[c * HS4 + i] + pv.y * vs[(c + 1u) * HS4 + i] + pv.z * vs[(c + 2u) * HS4 + i] + pv.w * vs[(c + 3u) * HS4 + i];
      }
    }
  }

  if (valid) {
    let inv = 1.0 / l;
    let ob = (b * p.T + t) * p.C + h * hs;
    // @unroll
    for (var i = 0u; i < HS4; i++) {
      let v = o[i] * inv;
      for (var j = 0u; j < 4u; j++) {
        if (i * 4u + j < hs) { out[ob + i * 4u + j] = v[j]; }
      }
    }
    lse[bh * p.T + t] = m + log(l);
  }
}
