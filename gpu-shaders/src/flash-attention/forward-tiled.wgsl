// Fused causal multi-head self-attention, forward, register-tiled (FlashAttention-2 loop order).
// Specification: `flashAttentionForward` in @swarmgrad/peer-core/reference (flash-attention.ts).
// Same bindings and results as forward.wgsl (the one-row-per-invocation kernel, which stays as
// the fallback where these tiles do not fit the device); this one is the fast path.
//
// One workgroup per (query block of BR rows, b*NH + h) walks the key tiles of BC = KJ·CG keys
// up to its block's last row (tiles above the diagonal are never visited). The block's q rows
// (pre-scaled) stay in workgroup memory; each tile's K and V rows are loaded next to them (the
// load loops are written out, so all of an invocation's global loads are in flight at once).
// Invocation (rg, cg) owns 4 query rows (4rg..4rg+3) and:
//   - in S = q·kᵀ, the 4×KJ scores of its rows and keys cg + CG·j (j < KJ): each step over the
//     head reads 4 q and KJ k vec4s for 4·KJ vec4 dots (K rows are padded to HS4+1 vec4s so the
//     CG invocations of a row group read different banks);
//   - in o += p·v, the outputs of its rows at vec4 columns cg + CG·j (j < NJ = HS4/CG): each key
//     reads one vec4 of p (its 4 rows) and NJ vec4s of v for 16·NJ FMAs.
// The online softmax per row: each invocation's max over its KJ keys goes to workgroup memory,
// every invocation of the row group takes the row's tile max from there, rescales its o and its
// partial row sum l by exp(m_old - m_new), and writes p = exp(s - m_new) for its own keys, as
// vec4s over its 4 rows (ps[key·RG + rg]). At the end the partial sums of a row are added up.
// On the H200 at hs 64 the wrapper's default shape is BR 64, CG 16, KJ 2 (256 invocations):
// many invocations per workgroup memory mattered more than large register tiles there.
//
// HS4 (head size in vec4s, a multiple of CG), BR (a multiple of 4), CG, KJ, NJ, LDB and LDT are
// compile-time constants the wrapper substitutes (tiles.ts; keep the spelling
// `const NAME: u32 = <n>u;`), and it writes out every loop marked `// @unroll` so the register
// arrays are indexed by constants.
//
// NOT here: the backward (backward-tiled.wgsl), tile choice (tiles.ts).

const HS4: u32 = 16u;
const BR: u32 = 64u;
const CG: u32 = 8u;
const NJ: u32 = 2u;
const RG: u32 = BR / 4u;  // row groups
const KJ: u32 = 4u;       // keys per invocation in S
const BC: u32 = KJ * CG;  // keys per tile
const KP: u32 = HS4 + 1u; // padded K row stride (vec4s)
const NT: u32 = RG * CG;  // invocations
const LDB: u32 = 8u;      // block vec4s each invocation loads: ceil(BR·HS4 / NT)
const LDT: u32 = 4u;      // tile vec4s each invocation loads: ceil(KJ·CG·HS4 / NT)
const NEG: f32 = -3.0e38;

struct Params { B: u32, T: u32, C: u32, NH: u32, hs: u32, nqb: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;

var<workgroup> qs: array<vec4<f32>, BR * HS4>; // q block (scaled), row-major
var<workgroup> ks: array<vec4<f32>, BC * KP>;  // K tile, padded rows
var<workgroup> vs: array<vec4<f32>, BC * HS4>; // V tile
var<workgroup> ps: array<vec4<f32>, BC * RG>;  // p of (key, row group): its 4 rows as a vec4
var<workgroup> mx: array<f32, BR * CG>;        // per (row, cg): partial max, then partial sum

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

@compute @workgroup_size(NT)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bh = wg.y;
  let b = bh / p.NH;
  let h = bh % p.NH;
  let rg = lid / CG;
  let cg = lid % CG;
  let qb = p.nqb - 1u - wg.x; // the longest blocks (most key tiles) are dispatched first
  let q0 = qb * BR;
  let C3 = 3u * p.C;
  let hs = p.hs;
  let scale = inverseSqrt(f32(hs));
  let r0 = 4u * rg;

  // @unroll
  for (var u = 0u; u < LDB; u++) {
    let e = lid + u * NT;
    if (e < BR * HS4) {
      let t = q0 + e / HS4;
      var qv = vec4<f32>(0.0);
      if (t < p.T) { qv = ldQkv((b * p.T + t) * C3 + h * hs, e % HS4) * scale; }
      qs[e] = qv;
    }
  }

  var o: array<array<vec4<f32>, NJ>, 4>;
  var m = vec4<f32>(NEG); // row maxima (rows r0..r0+3)
  var l = vec4<f32>(0.0); // partial row sums over this invocation's keys
  let rows = vec4<u32>(q0 + r0) + vec4<u32>(0u, 1u, 2u, 3u);
  let kEnd = min(p.T, q0 + BR);
  let ntiles = (kEnd + BC - 1u) / BC;
  for (var kt = 0u; kt < ntiles; kt++) {
    let k0 = kt * BC;
    workgroupBarrier();
    // @unroll
    for (var u = 0u; u < LDT; u++) {
      let e = lid + u * NT;
      if (e < BC * HS4) {
        let c = e / HS4;
        let d4 = e % HS4;
        let t2 = k0 + c;
        var kv = vec4<f32>(0.0);
        var vv = vec4<f32>(0.0);
        if (t2 < p.T) {
          let kb = (b * p.T + t2) * C3 + p.C + h * hs;
          kv = ldQkv(kb, d4);
          vv = ldQkv(kb + p.C, d4);
        }
        ks[c * KP + d4] = kv;
        vs[e] = vv;
      }
    }
    workgroupBarrier();

    // s[i][j]: row r0+i, key k0 + cg + CG*j
    var s = array<array<f32, KJ>, 4>(); // zeroed each tile (explicitly: an initializer-less var in a loop is not re-zeroed by every compiler)
    for (var d4 = 0u; d4 < HS4; d4++) {
      var kf: array<vec4<f32>, KJ>;
      // @unroll
      for (var j = 0u; j < KJ; j++) {
        kf[j] = ks[(cg + j * CG) * KP + d4];
      }
      // @unroll
      for (var i = 0u; i < 4u; i++) {
        let qi = qs[(r0 + i) * HS4 + d4];
        // @unroll
        for (var j = 0u; j < KJ; j++) {
          s[i][j] += dot(qi, kf[j]);
        }
      }
    }
    // @unroll
    for (var i = 0u; i < 4u; i++) {
      var mi = NEG;
      // @unroll
      for (var j = 0u; j < KJ; j++) {
        s[i][j] = select(NEG, s[i][j], k0 + cg + j * CG <= rows[i]);
        mi = max(mi, s[i][j]);
      }
      mx[(r0 + i) * CG + cg] = mi;
    }
    workgroupBarrier();
    var mt = m;
    for (var c = 0u; c < CG; c++) {
      mt = max(mt, vec4<f32>(mx[r0 * CG + c], mx[(r0 + 1u) * CG + c], mx[(r0 + 2u) * CG + c], mx[(r0 + 3u) * CG + c]));
    }
    let alpha = exp(m - mt);
    m = mt;
    l *= alpha;
    var pr: array<array<f32, KJ>, 4>;
    // @unroll
    for (var i = 0u; i < 4u; i++) {
      // @unroll
      for (var j = 0u; j < KJ; j++) {
        pr[i][j] = select(0.0, exp(s[i][j] - m[i]), k0 + cg + j * CG <= rows[i]);
        l[i] += pr[i][j];
      }
      // @unroll
      for (var j = 0u; j < NJ; j++) {
        o[i][j] *= alpha[i];
      }
    }
    // @unroll
    for (var j = 0u; j < KJ; j++) {
      ps[(cg + j * CG) * RG + rg] = vec4<f32>(pr[0][j], pr[1][j], pr[2][j], pr[3][j]);
    }
    workgroupBarrier();

    for (var c = 0u; c < BC; c++) {
      let pv = ps[c * RG + rg];
      // @unroll
      for (var j = 0u; j < NJ; j++) {
        let v = vs[c * HS4 + cg + j * CG];
        // @unroll
        for (var i = 0u; i < 4u; i++) {
          o[i][j] += pv[i] * v;
        }
      }
    }
  }

  workgroupBarrier();
  // @unroll
  for (var i = 0u; i < 4u; i++) {
    mx[(r0 + i) * CG + cg] = l[i];
  }
  workgroupBarrier();
  var lt = vec4<f32>(0.0);
  for (var c = 0u; c < CG; c++) {
    lt += vec4<f32>(mx[r0 * CG + c], mx[(r0 + 1u) * CG + c], mx[(r0 + 2u) * CG + c], mx[(r0 + 3u) * CG + c]);
  }
  let inv = 1.0 / lt;
  // @unroll
  for (var i = 0u; i < 4u; i++) {
    let t = rows[i];
    if (t < p.T) {
      let ob = (b * p.T + t) * p.C + h * hs;
      // @unroll
      for (var j = 0u; j < NJ; j++) {
        let v = o[i][j] * inv[i];
        let d = (cg + j * CG) * 4u;
        for (var x = 0u; x < 4u; x++) {
          if (d + x < hs) { out[ob + d + x] = v[x]; }
        }
      }
      if (cg == 0u) { lse[bh * p.T + t] = m[i] + log(lt[i]); }
    }
  }
}
