/**
 * Deterministic GPT-2 initialization from a seed: linear and embedding weights normal(0, 0.02),
 * the two residual projections (attn.c_proj, mlp.c_proj weights) normal(0, 0.02/sqrt(2L)),
 * biases 0, layernorm weight 1 and bias 0. Each named tensor draws from its own stream seeded
 * by (seed, name), so a tensor's values do not depend on the rest of the model (a pipeline
 * stage can initialize only its own blocks and agree with everyone else).
 */
import { randomNormal } from '../util/random.ts';
import type { ParamLayout } from './layout.ts';

export const INIT_STD = 0.02;

/** FNV-1a hash of a name, mixed with the seed. */
export function tensorSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Initial value of one named parameter. */
export function initTensor(layout: ParamLayout, name: string, seed: number): Float32Array {
  const spec = layout.byName.get(name);
  if (!spec) throw new Error(`no parameter named ${name}`);
  const L = layout.config.nLayer;
  if (name.endsWith('.bias')) return new Float32Array(spec.length);
  if (/ln_[12f]\.weight$/.test(name) || name === 'ln_f.weight') return new Float32Array(spec.length).fill(1);
  const residualProj = name.endsWith('attn.c_proj.weight') || name.endsWith('mlp.c_proj.weight');
  const std = residualProj ? INIT_STD / Math.sqrt(2 * L) : INIT_STD;
  return randomNormal(spec.length, tensorSeed(seed, name), std);
}

/** The whole flat parameter buffer (padding zero). */
export function initParams(layout: ParamLayout, seed: number): Float32Array {
  const flat = new Float32Array(layout.totalLength);
  for (const s of layout.specs) flat.set(initTensor(layout, s.name, seed), s.offset);
  return flat;
}
