// Fused causal multi-head self-attention, backward (FlashAttention-2 style). Specification:
// `flashAttentionBackward` in @swarmgrad/peer-core/reference (flash-attention.ts). Probabilities
// are recomputed from the forward's lse: p = exp(scale·q·k - lse). Accumulates (+=) into dqkv.
// WGSL has no float atomics, so the work is split by which side owns the result:
//
// `dq`:  one workgroup per (query block of BR rows, b*NH + h), one invocation per query row;
//        first D = rowsum(dout ∘ out) for its row (written to dd for `dkv`), then over the key
//        tiles up to the diagonal (K and V tiles of BC keys in workgroup memory, broadcast
//        reads): s = q·k, dp = dout·v, ds = p (dp - D), dq += scale · ds·k (registers).
// `dkv`: one workgroup per (key block of BK rows, b*NH + h), run after `dq` (it reads dd), one
//        invocation per key row; over the query tiles of BQ rows from the block's first key
//        to T (q, dout, lse and D of the tile in workgroup memory, broadcast reads):
//        dv += p·dout, dk += scale · ds·q, both accumulated in registers.
// Scores and dp of a tile live in registers (arrays of BC / BQ floats); the loops run
// channel-outer, row-inner, so an invocation re-reads its own q/dout (or k/v) row per tile
// from global memory (L1) rather than holding it in registers.
//
// HS4, BR, BC, BQ are compile-time constants the wrapper substitutes (tiles.ts; keep the
// spelling `const NAME: u32 = <n>u;`). BK = BR.

const HS4: u32 = 16u;
const BR: u32 = 64u;
const BC: u32 = 32u;
const BQ: u32 = 16u;

struct Params { B: u32, T: u32, C: u32, NH: u32, hs: u32, nb: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(6) var<storage, read_write> dd: array<f32>; // D (B,NH,T): written by dq, read by dkv

// Workgroup memory counts per entry point (only what it uses): dq 2·BC·HS4 vec4s, dkv
// 2·BQ·HS4 vec4s + 2·BQ floats.
var<workgroup> ks: array<vec4<f32>, BC * HS4>; // dq: K tile
var<workgroup> vs: array<vec4<f32>, BC * HS4>; // dq: V tile
var<workgroup> qs: array<vec4<f32>, BQ * HS4>; // dkv: q rows of the query tile
var<workgroup> gs: array<vec4<f32>, BQ * HS4>; // dkv: dout rows
var<workgroup> tl: array<f32, BQ>;             // dkv: lse of the tile's queries
var<workgroup> td: array<f32, BQ>;             // dkv: D of the tile's queries

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
  let qb = p.nb - 1u - wg.x; // longest blocks first
  let t = qb * BR + lid;
  let valid = t < p.T;
  let tc = min(t, p.T - 1u);
  let C3 = 3u * p.C;
  let hs = p.hs;
  let scale = inverseSqrt(f32(hs));
  let qbase = (b * p.T + tc) * C3 + h * hs;
  let obase = (b * p.T + tc) * p.C + h * hs;

  var D = 0.0;
  for (var d4 = 0u; d4 < HS4; d4++) { D += dot(ldDout(obase, d4), ldOut(obase, d4)); }
  let L = lse[bh * p.T + tc];
  if (valid) { dd[bh * p.T + t] = D; }

  var g: array<vec4<f32>, HS4>; // dq / scale
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
    var dp = array<f32, BC>();
    for (var d4 = 0u; d4 < HS4; d4++) {
      let q4 = ldQkv(qbase, d4);
      let g4 = ldDout(obase, d4);
      for (var c = 0u; c < BC; c++) {
        s[c] += dot(q4, ks[c * HS4 + d4]);
        dp[c] += dot(g4, vs[c * HS4 + d4]);
      }
    }
    for (var c = 0u; c < BC; c++) {
      let pc = select(0.0, exp(s[c] * scale - L), k0 + c <= t);
      let ds = pc * (dp[c] - D);
      for (var d4 = 0u; d4 < HS4; d4++) { g[d4] += ds * ks[c * HS4 + d4]; }
    }
  }

  if (valid) {
    for (var d4 = 0u; d4 < HS4; d4++) { addGrad(qbase, d4, g[d4] * scale); }
  }
}

@compute @workgroup_size(BR)
fn dkv(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bh = wg.y;
  let b = bh / p.NH;
  let h = bh % p.NH;
  let kb = wg.x; // key blocks near the start see the most queries: they come first
  let t2 = kb * BR + lid;
  let valid = t2 < p.T;
  let t2c = min(t2, p.T - 1u);
  let C3 = 3u * p.C;
  let hs = p.hs;
  let scale = inverseSqrt(f32(hs));
  let kbase = (b * p.T + t2c) * C3 + p.C + h * hs;

  var gk: array<vec4<f32>, HS4>; // dk / scale
  var gv: array<vec4<f32>, HS4>; // dv
  let qStart = (kb * BR / BQ) * BQ; // queries before the block's first key see none of it
  let ntiles = (p.T - qStart + BQ - 1u) / BQ;
  for (var qt = 0u; qt < ntiles; qt++) {
    let q0 = qStart + qt * BQ;
    workgroupBarrier();
    for (var i = lid; i < BQ * HS4; i += BR) {
      let t = q0 + i / HS4;
      var qv = vec4<f32>(0.0);
      var gv4 = vec4<f32>(0.0);
      if (t < p.T) {
        qv = ldQkv((b * p.T + t) * C3 + h * hs, i % HS4);
        gv4 = ldDout((b * p.T + t) * p.C + h * hs, i % HS4);
      }
      qs[i] = qv;
      gs[i] = gv4;
    }
    for (var r = lid; r < BQ; r += BR) {
      let t = q0 + r;
      tl[r] = select(0.0, lse[bh * p.T + min(t, p.T - 1u)], t < p.T);
      td[r] = select(0.0, dd[bh * p.T + min(t, p.T - 1u)], t < p.T);
    }
    workgroupBarrier();

    var s = array<f32, BQ>();
    var dp = array<f32, BQ>();
    for (var d4 = 0u; d4 < HS4; d4++) {
      let k4 = ldQkv(kbase, d4);
      let v4 = ldQkv(kbase + p.C, d4);
      for (var r = 0u; r < BQ; r++) {
        s[r] += dot(k4, qs[r * HS4 + d4]);
        dp[r] += dot(v4, gs[r * HS4 + d4]);
      }
    }
    for (var r = 0u; r < BQ; r++) {
      let t = q0 + r;
      let pr = select(0.0, exp(s[r] * scale - tl[r]), t2 <= t && t < p.T);
      s[r] = pr;
      dp[r] = pr * (dp[r] - td[r]);
    }
    for (var d4 = 0u; d4 < HS4; d4++) {
      var av = vec4<f32>(0.0);
      var ak = vec4<f32>(0.0);
      for (var r = 0u; r < BQ; r++) {
        av += s[r] * gs[r * HS4 + d4];
        ak += dp[r] * qs[r * HS4 + d4];
      }
      gv[d4] += av;
      gk[d4] += ak;
    }
  }

  if (valid) {
    for (var d4 = 0u; d4 < HS4; d4++) {
      addGrad(kbase, d4, gk[d4] * scale);
      addGrad(kbase + p.C, d4, gv[d4]);
    }
  }
}
