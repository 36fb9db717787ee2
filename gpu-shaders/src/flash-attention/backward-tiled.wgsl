// Fused causal multi-head self-attention, backward, register-tiled (FlashAttention-2 loop
// order). Specification: `flashAttentionBackward` in @swarmgrad/peer-core/reference
// (flash-attention.ts). Same bindings and results as backward.wgsl (the kernel with two
// invocations per row, which stays as the fallback where these tiles do not fit the device).
// Probabilities are recomputed from the forward's lse: p = exp(scale·q·k - lse). Accumulates
// (+=) into dqkv. WGSL has no float atomics, so the work is split by which side owns the result:
//
// `dq`:  one workgroup per (query block of BR rows, b*NH + h): its q and dout rows go to
//        workgroup memory, D = rowsum(dout ∘ out) per row (also written to dd for `dkv`), then
//        over the key tiles of BT = KJ·CG keys up to the diagonal: s = q·kᵀ, dp = dout·vᵀ,
//        ds = p (dp - D) to workgroup memory, dq += ds·k.
// `dkv`: one workgroup per (key block of BR rows, b*NH + h), run after `dq` (it reads dd): its
//        k and v rows stay in workgroup memory; over the query tiles of BT queries from the
//        block's first key to T (q and dout of the tile loaded; lse and D read per invocation):
//        sᵀ = k·qᵀ, dpᵀ = v·doutᵀ, p and ds to workgroup memory, dv += pᵀ·dout, dk += dsᵀ·q.
//
// Invocation (rg, cg) owns 4 rows of the block (4rg..4rg+3): in the score products the 4×KJ
// entries of its rows and the tile rows cg + CG·j (j < KJ), each step over the head reading 4
// block and KJ tile vec4s per product for 4·KJ vec4 dots; in the accumulations its rows at vec4
// columns cg + CG·j (j < NJ = HS4/CG), each tile row reading one vec4 of ds (or p) over its 4
// rows and NJ vec4s of the tile for 16·NJ FMAs. The products go to workgroup memory as vec4s
// over the 4 rows of a row group (sa[tile row·RG + rg]). Tile rows are stored rotated (`sw`)
// rather than padded: workgroup memory bounds the blocks (dkv at BR 64, hs 64 uses exactly 48
// KiB). The load loops are written out, so an invocation's global loads are in flight at once.
// On the H200 at hs 64 the wrapper's default shapes are BR 64, CG 16, KJ 1 for both passes.
//
// HS4 (head size in vec4s, a multiple of CG), BR (a multiple of 4), CG, KJ, NJ, LDB and LDT are
// compile-time constants the wrapper substitutes, separately for each entry point (tiles.ts;
// keep the spelling `const NAME: u32 = <n>u;`), and it writes out every loop marked `// @unroll`
// so the register arrays are indexed by constants.
//
// NOT here: the forward (forward-tiled.wgsl), tile choice (tiles.ts).

const HS4: u32 = 16u;
const BR: u32 = 32u;
const CG: u32 = 8u;
const NJ: u32 = 2u;
const RG: u32 = BR / 4u;  // row groups
const KJ: u32 = 4u;       // tile rows per invocation in the score products
const BT: u32 = KJ * CG;  // tile rows (keys in dq, queries in dkv)
const NT: u32 = RG * CG;  // invocations
const LDB: u32 = 8u;      // block vec4s each invocation loads: ceil(BR·HS4 / NT)
const LDT: u32 = 4u;      // tile vec4s each invocation loads: ceil(KJ·CG·HS4 / NT)

struct Params { B: u32, T: u32, C: u32, NH: u32, hs: u32, nb: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> out: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(6) var<storage, read_write> dd: array<f32>; // D (B,NH,T): written by dq, read by dkv

// Workgroup memory per entry point (what it uses): dq 2·BR·HS4 + 2·BT·HS4 + BT·RG vec4s and BR
// floats; dkv 2·BR·HS4 + 2·BT·HS4 + 2·BT·RG vec4s.
var<workgroup> ba: array<vec4<f32>, BR * HS4>; // dq: q block | dkv: k block
var<workgroup> bg: array<vec4<f32>, BR * HS4>; // dq: dout block | dkv: v block
var<workgroup> ta: array<vec4<f32>, BT * HS4>; // dq: K tile | dkv: q tile (rows rotated: sw)
var<workgroup> tg: array<vec4<f32>, BT * HS4>; // dq: V tile | dkv: dout tile (rows rotated: sw)
var<workgroup> sa: array<vec4<f32>, BT * RG>;  // dq: ds | dkv: p
var<workgroup> sb: array<vec4<f32>, BT * RG>;  // dkv: ds
var<workgroup> rd: array<f32, BR>;             // dq: D of the block rows

// Index of vec4 d4 of tile row c: each row rotated by c (row c's vec4 d4 at (d4 + c) % HS4), so
// the invocations of a row group, reading vec4 d4 of rows cg + CG·j, hit different banks without
// padding (workgroup memory is what bounds the tiles).
fn sw(c: u32, d4: u32) -> u32 {
  return c * HS4 + (d4 + c) % HS4;
}

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

@compute @workgroup_size(NT)
fn dq(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bh = wg.y;
  let b = bh / p.NH;
  let h = bh % p.NH;
  let rg = lid / CG;
  let cg = lid % CG;
  let qb = p.nb - 1u - wg.x; // longest blocks first
  let q0 = qb * BR;
  let r0 = 4u * rg;
  let C3 = 3u * p.C;
  let hs = p.hs;
  let scale = inverseSqrt(f32(hs));

  // @unroll
  for (var u = 0u; u < LDB; u++) {
    let e = lid + u * NT;
    if (e < BR * HS4) {
      let t = q0 + e / HS4;
      var qv = vec4<f32>(0.0);
      var gv = vec4<f32>(0.0);
      if (t < p.T) {
        qv = ldQkv((b * p.T + t) * C3 + h * hs, e % HS4);
        gv = ldDout((b * p.T + t) * p.C + h * hs, e % HS4);
      }
      ba[e] = qv;
      bg[e] = gv;
    }
  }
  workgroupBarrier();
  for (var r = lid; r < BR; r += NT) {
    let t = q0 + r;
    var D = 0.0;
    if (t < p.T) {
      let ob = (b * p.T + t) * p.C + h * hs;
      for (var d4 = 0u; d4 < HS4; d4++) {
        D += dot(bg[r * HS4 + d4], ldOut(ob, d4));
      }
      dd[bh * p.T + t] = D;
    }
    rd[r] = D;
  }
  workgroupBarrier();

  let rows = vec4<u32>(q0 + r0) + vec4<u32>(0u, 1u, 2u, 3u);
  let D4 = vec4<f32>(rd[r0], rd[r0 + 1u], rd[r0 + 2u], rd[r0 + 3u]);
  var L4 = vec4<f32>(0.0);
  // @unroll
  for (var i = 0u; i < 4u; i++) {
    L4[i] = lse[bh * p.T + min(rows[i], p.T - 1u)];
  }
  var acc: array<array<vec4<f32>, NJ>, 4>; // dq / scale
  let kEnd = min(p.T, q0 + BR);
  let ntiles = (kEnd + BT - 1u) / BT;
  for (var kt = 0u; kt < ntiles; kt++) {
    let k0 = kt * BT;
    workgroupBarrier();
    // @unroll
    for (var u = 0u; u < LDT; u++) {
      let e = lid + u * NT;
      if (e < BT * HS4) {
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
        ta[sw(c, d4)] = kv;
        tg[sw(c, d4)] = vv;
      }
    }
    workgroupBarrier();

    // s[i][j], dp[i][j]: row r0+i, key k0 + cg + CG*j
    var s = array<array<f32, KJ>, 4>(); // zeroed each tile (explicitly: an initializer-less var in a loop is not re-zeroed by every compiler)
    var dp = array<array<f32, KJ>, 4>();
    for (var d4 = 0u; d4 < HS4; d4++) {
      var kf: array<vec4<f32>, KJ>;
      var vf: array<vec4<f32>, KJ>;
      // @unroll
      for (var j = 0u; j < KJ; j++) {
        kf[j] = ta[sw(cg + j * CG, d4)];
        vf[j] = tg[sw(cg + j * CG, d4)];
      }
      // @unroll
      for (var i = 0u; i < 4u; i++) {
        let qi = ba[(r0 + i) * HS4 + d4];
        let gi = bg[(r0 + i) * HS4 + d4];
        // @unroll
        for (var j = 0u; j < KJ; j++) {
          s[i][j] += dot(qi, kf[j]);
          dp[i][j] += dot(gi, vf[j]);
        }
      }
    }
    var ds: array<array<f32, KJ>, 4>;
    // @unroll
    for (var i = 0u; i < 4u; i++) {
      // @unroll
      for (var j = 0u; j < KJ; j++) {
        let keep = k0 + cg + j * CG <= rows[i] && rows[i] < p.T;
        ds[i][j] = select(0.0, exp(s[i][j] * scale - L4[i]) * (dp[i][j] - D4[i]), keep);
      }
    }
    // @unroll
    for (var j = 0u; j < KJ; j++) {
      sa[(cg + j * CG) * RG + rg] = vec4<f32>(ds[0][j], ds[1][j], ds[2][j], ds[3][j]);
    }
    workgroupBarrier();

    for (var c = 0u; c < BT; c++) {
      let dsv = sa[c * RG + rg];
      // @unroll
      for (var j = 0u; j < NJ; j++) {
        let kv = ta[sw(c, cg + j * CG)];
        // @unroll
        for (var i = 0u; i < 4u; i++) {
          acc[i][j] += dsv[i] * kv;
        }
      }
    }
  }

  // @unroll
  for (var i = 0u; i < 4u; i++) {
    if (rows[i] < p.T) {
      let qbase = (b * p.T + rows[i]) * C3 + h * hs;
      // @unroll
      for (var j = 0u; j < NJ; j++) {
        addGrad(qbase, cg + j * CG, acc[i][j] * scale);
      }
    }
  }
}

@compute @workgroup_size(NT)
fn dkv(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bh = wg.y;
  let b = bh / p.NH;
  let h = bh % p.NH;
  let rg = lid / CG;
  let cg = lid % CG;
  let k0b = wg.x * BR; // key blocks near the start see the most queries: they come first
  let r0 = 4u * rg;
  let C3 = 3u * p.C;
  let hs = p.hs;
  let scale = inverseSqrt(f32(hs));

  // @unroll
  for (var u = 0u; u < LDB; u++) {
    let e = lid + u * NT;
    if (e < BR * HS4) {
      let t2 = k0b + e / HS4;
      var kv = vec4<f32>(0.0);
      var vv = vec4<f32>(0.0);
      if (t2 < p.T) {
        let kb = (b * p.T + t2) * C3 + p.C + h * hs;
        kv = ldQkv(kb, e % HS4);
        vv = ldQkv(kb + p.C, e % HS4);
      }
      ba[e] = kv;
      bg[e] = vv;
    }
  }

  let rows = vec4<u32>(k0b + r0) + vec4<u32>(0u, 1u, 2u, 3u); // this invocation's keys
  var gk: array<array<vec4<f32>, NJ>, 4>; // dk / scale
  var gv: array<array<vec4<f32>, NJ>, 4>; // dv
  let qStart = (k0b / BT) * BT; // queries before the block's first key see none of it
  let ntiles = (p.T - qStart + BT - 1u) / BT;
  for (var qt = 0u; qt < ntiles; qt++) {
    let q0 = qStart + qt * BT;
    workgroupBarrier();
    // @unroll
    for (var u = 0u; u < LDT; u++) {
      let e = lid + u * NT;
      if (e < BT * HS4) {
        let c = e / HS4;
        let d4 = e % HS4;
        let t = q0 + c;
        var qv = vec4<f32>(0.0);
        var g4 = vec4<f32>(0.0);
        if (t < p.T) {
          qv = ldQkv((b * p.T + t) * C3 + h * hs, d4);
          g4 = ldDout((b * p.T + t) * p.C + h * hs, d4);
        }
        ta[sw(c, d4)] = qv;
        tg[sw(c, d4)] = g4;
      }
    }
    workgroupBarrier();

    // lse and D of this invocation's queries (0 past T)
    var Lq: array<f32, KJ>;
    var Dq: array<f32, KJ>;
    // @unroll
    for (var j = 0u; j < KJ; j++) {
      let tq = q0 + cg + j * CG;
      let at = bh * p.T + min(tq, p.T - 1u);
      Lq[j] = select(0.0, lse[at], tq < p.T);
      Dq[j] = select(0.0, dd[at], tq < p.T);
    }
    // s[i][j], dp[i][j]: key r0+i, query q0 + cg + CG*j
    var s = array<array<f32, KJ>, 4>(); // zeroed each tile (explicitly: an initializer-less var in a loop is not re-zeroed by every compiler)
    var dp = array<array<f32, KJ>, 4>();
    for (var d4 = 0u; d4 < HS4; d4++) {
      var qf: array<vec4<f32>, KJ>;
      var gf: array<vec4<f32>, KJ>;
      // @unroll
      for (var j = 0u; j < KJ; j++) {
        qf[j] = ta[sw(cg + j * CG, d4)];
        gf[j] = tg[sw(cg + j * CG, d4)];
      }
      // @unroll
      for (var i = 0u; i < 4u; i++) {
        let ki = ba[(r0 + i) * HS4 + d4];
        let vi = bg[(r0 + i) * HS4 + d4];
        // @unroll
        for (var j = 0u; j < KJ; j++) {
          s[i][j] += dot(ki, qf[j]);
          dp[i][j] += dot(vi, gf[j]);
        }
      }
    }
    var pr: array<array<f32, KJ>, 4>;
    var ds: array<array<f32, KJ>, 4>;
    // @unroll
    for (var j = 0u; j < KJ; j++) {
      let r = cg + j * CG;
      let tq = q0 + r;
      // @unroll
      for (var i = 0u; i < 4u; i++) {
        let keep = tq >= rows[i] && tq < p.T;
        pr[i][j] = select(0.0, exp(s[i][j] * scale - Lq[j]), keep);
        ds[i][j] = pr[i][j] * (dp[i][j] - Dq[j]);
      }
      sa[r * RG + rg] = vec4<f32>(pr[0][j], pr[1][j], pr[2][j], pr[3][j]);
      sb[r * RG + rg] = vec4<f32>(ds[0][j], ds[1][j], ds[2][j], ds[3][j]);
    }
    workgroupBarrier();

    for (var c = 0u; c < BT; c++) {
      let pv = sa[c * RG + rg];
      let dsv = sb[c * RG + rg];
      // @unroll
      for (var j = 0u; j < NJ; j++) {
        let g = tg[sw(c, cg + j * CG)];
        let q = ta[sw(c, cg + j * CG)];
        // @unroll
        for (var i = 0u; i < 4u; i++) {
          gv[i][j] += pv[i] * g;
          gk[i][j] += dsv[i] * q;
        }
      }
    }
  }

  // @unroll
  for (var i = 0u; i < 4u; i++) {
    if (rows[i] < p.T) {
      let kbase = (b * p.T + rows[i]) * C3 + p.C + h * hs;
      // @unroll
      for (var j = 0u; j < NJ; j++) {
        addGrad(kbase, cg + j * CG, gk[i][j] * scale);
        addGrad(kbase + p.C, cg + j * CG, gv[i][j]);
      }
    }
  }
}
