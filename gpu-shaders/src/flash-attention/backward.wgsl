// Fused causal multi-head self-attention, backward (FlashAttention-2 style). Specification:
// `flashAttentionBackward` in @swarmgrad/peer-core/reference (flash-attention.ts). Probabilities
// are recomputed from the forward's lse: p = exp(scale·q·k - lse). Accumulates (+=) into dqkv.
// WGSL has no float atomics, so the work is split by which side owns the result:
//
// `dq`:  one workgroup per (query block of BR/2 rows, b*NH + h); first D = rowsum(dout ∘ out)
//        per row (written to dd for `dkv`), then over the key tiles up to the diagonal (K and
//        V tiles of BC keys in workgroup memory): s = q·k, dp = dout·v, ds = p (dp - D),
//        dq += scale · ds·k.
// `dkv`: one workgroup per (key block of BR/2 rows, b*NH + h), run after `dq` (it reads dd);
//        over the query tiles of BQ rows from the block's first key to T (q, dout, lse and D
//        of the tile in workgroup memory): dv += p·dout, dk += scale · ds·q.
//
// Two invocations share a row (lid = 2·row + half): each holds half of the row's vec4s (the
// even or the odd ones) of its inputs and accumulators in registers (dq: q, dout, dq; dkv: k,
// v, dk, dv), so the registers per invocation stay at 3 or 4 × hs/2. Rows (keys in dq, queries
// in dkv) are taken 4 at a time: each half computes its partial dot products as two vec4s,
// the pair swaps them through workgroup memory (double-buffered, one barrier per 4 rows),
// and both finish the 4 probabilities and update their halves. Tile reads are broadcasts
// (the two halves read neighbouring vec4s: different banks).
//
// HS4 (head size in vec4s, even), BR (even), BC and BQ (multiples of 4) are compile-time
// constants the wrapper substitutes (tiles.ts; keep the spelling `const NAME: u32 = <n>u;`),
// and it writes out every loop marked `// @unroll`, so the register arrays are indexed by
// constants.

const HS4: u32 = 16u;
const BR: u32 = 64u;
const BC: u32 = 16u;
const BQ: u32 = 16u;
const HH4: u32 = HS4 / 2u; // vec4s per half row
const RB: u32 = BR / 2u;   // rows per workgroup

struct Params { B: u32, T: u32, C: u32, NH: u32, hs: u32, nb: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(6) var<storage, read_write> dd: array<f32>; // D (B,NH,T): written by dq, read by dkv

// Workgroup memory counts per entry point (what it uses): dq 2·BC·HS4 + 4·BR vec4s;
// dkv 2·BQ·HS4 + 4·BR vec4s + 2·BQ floats.
var<workgroup> ks: array<vec4<f32>, BC * HS4>; // dq: K tile
var<workgroup> vs: array<vec4<f32>, BC * HS4>; // dq: V tile
var<workgroup> qs: array<vec4<f32>, BQ * HS4>; // dkv: q rows of the query tile
var<workgroup> gs: array<vec4<f32>, BQ * HS4>; // dkv: dout rows
var<workgroup> tl: array<f32, BQ>;             // dkv: lse of the tile's queries
var<workgroup> td: array<f32, BQ>;             // dkv: D of the tile's queries
var<workgroup> xs: array<vec4<f32>, 2u * BR>;  // partial scores, swapped within a pair
var<workgroup> xp: array<vec4<f32>, 2u * BR>;  // partial dp

// 4 channels (4*d4..) of a row segment at `base`; channels >= hs read as 0. One per input.
fn ldQkv(base: u32, d4: u32) -> vec4<f32> {
  let d = d4 * 4u;
  if (d + 3u < p.hs) { return vec4<f32>(qkv[base + d], qkv[base + d + 1u], qkv[base + d + 2u], qkv[base + d + 3u]); }
  var r = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) { if (d + j < p.hs) { r[j] = qkv[base + d + j]; } }
  return r;
}

fn ldOut(base: u32, d4: u32) -> vec4<f32> {
  let d = d4 * 4u;
  if (d + 3u < p.hs) { return vec4<f32>(out[base + d], out[base + d + 1u], out[base + d + 2u], out[base + d + 3u]); }
  var r = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) { if (d + j < p.hs) { r[j] = out[base + d + j]; } }
  return r;
}

fn ldDout(base: u32, d4: u32) -> vec4<f32> {
  let d = d4 * 4u;
  if (d + 3u < p.hs) { return vec4<f32>(dout[base + d], dout[base + d + 1u], dout[base + d + 2u], dout[base + d + 3u]); }
  var r = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) { if (d + j < p.hs) { r[j] = dout[base + d + j]; } }
  return r;
}

// dqkv[base + 4*d4 + j] += v[j] for channels < hs.
fn addGrad(base: u32, d4: u32, v: vec4<f32>) {
  for (var j = 0u; j < 4u; j++) {
    let d = d4 * 4u + j;
    if (d < p.hs) { dqkv[base + d] += v[j]; }
  }
}

@compute @workgroup_size(BR)
fn dq(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bh = wg.y;
  let b = bh / p.NH;
  let h = bh % p.NH;
  let half = lid & 1u;
  let qb = p.nb - 1u - wg.x; // longest blocks first
  let t = qb * RB + (lid >> 1u);
  let valid = t < p.T;
  let tc = min(t, p.T - 1u);
  let C3 = 3u * p.C;
  let hs = p.hs;
  let scale = inverseSqrt(f32(hs));
  let qbase = (b * p.T + tc) * C3 + h * hs;
  let obase = (b * p.T + tc) * p.C + h * hs;

  var q: array<vec4<f32>, HH4>;
  var g: array<vec4<f32>, HH4>;
  var acc: array<vec4<f32>, HH4>; // dq / scale
  var D = 0.0;
  // @unroll
  for (var i = 0u; i < HH4; i++) {
    q[i] = ldQkv(qbase, 2u * i + half);
    g[i] = ldDout(obase, 2u * i + half);
    D += dot(g[i], ldOut(obase, 2u * i + half));
  }
  xs[lid] = vec4<f32>(D);
  workgroupBarrier();
  D += xs[lid ^ 1u].x;
  let L = lse[bh * p.T + tc];
  if (valid && half == 0u) { dd[bh * p.T + t] = D; }

  var buf = 0u;
  let kEnd = min(p.T, (qb + 1u) * RB);
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
      var dp = vec4<f32>(0.0);
      // @unroll
      for (var i = 0u; i < HH4; i++) {
        let d4 = 2u * i + half;
        let qi = q[i];
        let gi = g[i];
        s += vec4<f32>(dot(qi, ks[c * HS4 + d4]), dot(qi, ks[(c + 1u) * HS4 + d4]), dot(qi, ks[(c + 2u) * HS4 + d4]), dot(qi, ks[(c + 3u) * HS4 + d4]));
        dp += vec4<f32>(dot(gi, vs[c * HS4 + d4]), dot(gi, vs[(c + 1u) * HS4 + d4]), dot(gi, vs[(c + 2u) * HS4 + d4]), dot(gi, vs[(c + 3u) * HS4 + d4]));
      }
      xs[buf + lid] = s;
      xp[buf + lid] = dp;
      workgroupBarrier();
      s += xs[buf + (lid ^ 1u)];
      dp += xp[buf + (lid ^ 1u)];
      buf = BR - buf;
      let keep = vec4<u32>(k0 + c) + vec4<u32>(0u, 1u, 2u, 3u) <= vec4<u32>(t);
      let pv = select(vec4<f32>(0.0), exp(s * scale - vec4<f32>(L)), keep);
      let ds = pv * (dp - vec4<f32>(D));
      // @unroll
      for (var i = 0u; i < HH4; i++) {
        let d4 = 2u * i + half;
        acc[i] += ds.x * ks[c * HS4 + d4] + ds.y * ks[(c + 1u) * HS4 + d4] + ds.z * ks[(c + 2u) * HS4 + d4] + ds.w * ks[(c + 3u) * HS4 + d4];
      }
    }
  }

  if (valid) {
    // @unroll
    for (var i = 0u; i < HH4; i++) {
      addGrad(qbase, 2u * i + half, acc[i] * scale);
    }
  }
}

@compute @workgroup_size(BR)
fn dkv(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bh = wg.y;
  let b = bh / p.NH;
  let h = bh % p.NH;
  let half = lid & 1u;
  let kb = wg.x; // key blocks near the start see the most queries: they come first
  let t2 = kb * RB + (lid >> 1u);
  let valid = t2 < p.T;
  let t2c = min(t2, p.T - 1u);
  let C3 = 3u * p.C;
  let hs = p.hs;
  let scale = inverseSqrt(f32(hs));
  let kbase = (b * p.T + t2c) * C3 + p.C + h * hs;

  var k: array<vec4<f32>, HH4>;
  var v: array<vec4<f32>, HH4>;
  var gk: array<vec4<f32>, HH4>; // dk / scale
  var gv: array<vec4<f32>, HH4>; // dv
  // @unroll
  for (var i = 0u; i < HH4; i++) {
    k[i] = ldQkv(kbase, 2u * i + half);
    v[i] = ldQkv(kbase + p.C, 2u * i + half);
  }

  var buf = 0u;
  let qStart = (kb * RB / BQ) * BQ; // queries before the block's first key see none of it
  let ntiles = (p.T - qStart + BQ - 1u) / BQ;
  for (var qt = 0u; qt < ntiles; qt++) {
    let q0 = qStart + qt * BQ;
    workgroupBarrier();
    for (var e = lid; e < BQ * HS4; e += BR) {
      let t = q0 + e / HS4;
      var qv = vec4<f32>(0.0);
      var gv4 = vec4<f32>(0.0);
      if (t < p.T) {
        qv = ldQkv((b * p.T + t) * C3 + h * hs, e % HS4);
        gv4 = ldDout((b * p.T + t) * p.C + h * hs, e % HS4);
      }
      qs[e] = qv;
      gs[e] = gv4;
    }
    for (var r = lid; r < BQ; r += BR) {
      let t = q0 + r;
      tl[r] = select(0.0, lse[bh * p.T + min(t, p.T - 1u)], t < p.T);
      td[r] = select(0.0, dd[bh * p.T + min(t, p.T - 1u)], t < p.T);
    }
    workgroupBarrier();

    for (var r = 0u; r < BQ; r += 4u) {
      var s = vec4<f32>(0.0);
      var dp = vec4<f32>(0.0);
      // @unroll
      for (var i = 0u; i < HH4; i++) {
        let d4 = 2u * i + half;
        let ki = k[i];
        let vi = v[i];
        s += vec4<f32>(dot(ki, qs[r * HS4 + d4]), dot(ki, qs[(r + 1u) * HS4 + d4]), dot(ki, qs[(r + 2u) * HS4 + d4]), dot(ki, qs[(r + 3u) * HS4 + d4]));
        dp += vec4<f32>(dot(vi, gs[r * HS4 + d4]), dot(vi, gs[(r + 1u) * HS4 + d4]), dot(vi, gs[(r + 2u) * HS4 + d4]), dot(vi, gs[(r + 3u) * HS4 + d4]));
      }
      xs[buf + lid] = s;
      xp[buf + lid] = dp;
      workgroupBarrier();
      s += xs[buf + (lid ^ 1u)];
      dp += xp[buf + (lid ^ 1u)];
      buf = BR - buf;
      let tq = vec4<u32>(q0 + r) + vec4<u32>(0u, 1u, 2u, 3u);
      let keep = (tq >= vec4<u32>(t2)) & (tq < vec4<u32>(p.T));
      let L4 = vec4<f32>(tl[r], tl[r + 1u], tl[r + 2u], tl[r + 3u]);
      let D4 = vec4<f32>(td[r], td[r + 1u], td[r + 2u], td[r + 3u]);
      let pv = select(vec4<f32>(0.0), exp(s * scale - L4), keep);
      let ds = pv * (dp - D4);
      // @unroll
      for (var i = 0u; i < HH4; i++) {
        let d4 = 2u * i + half;
        gv[i] += pv.x * gs[r * HS4 + d4] + pv.y * gs[(r + 1u) * HS4 + d4] + pv.z * gs[(r + 2u) * HS4 + d4] + pv.w * gs[(r + 3u) * HS4 + d4];
        gk[i] += ds.x * qs[r * HS4 + d4] + ds.y * qs[(r + 1u) * HS4 + d4] + ds.z * qs[(r + 2u) * HS4 + d4] + ds.w * qs[(r + 3u) * HS4 + d4];
      }
    }
  }

  if (valid) {
    // @unroll
    for (var i = 0u; i < HH4; i++) {
      addGrad(kbase, 2u * i + half, gk[i] * scale);
      addGrad(kbase + p.C, 2u * i + half, gv[i]);
    }
  }
}
