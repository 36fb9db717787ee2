/**
 * The flat parameter layout: every parameter of the model lives in ONE contiguous Float32
 * buffer, and each named tensor is a view at a fixed offset. Later features (gossip
 * averaging, compression) work on that buffer as a whole.
 *
 * Names and shapes are Hugging Face GPT-2's (a GPT2Model checkpoint), so checkpoints map 1:1:
 *   wte.weight (V,C)  wpe.weight (maxT,C)
 *   h.{i}.ln_1.weight/bias (C)   h.{i}.attn.c_attn.weight (C,3C) bias (3C)
 *   h.{i}.attn.c_proj.weight (C,C) bias (C)   h.{i}.ln_2.weight/bias (C)
 *   h.{i}.mlp.c_fc.weight (C,4C) bias (4C)   h.{i}.mlp.c_proj.weight (4C,C) bias (C)
 *   ln_f.weight/bias (C)
 * Linear weights are in Conv1D layout (in, out): y = x · W + b with our non-transposed matmul.
 * The lm head is tied to wte (logits = x · wteᵀ).
 *
 * Order: embeddings, then block 0..L-1 (each block's tensors together), then ln_f, so the
 * parameters of a pipeline stage (a contiguous range of blocks) are a contiguous range of the
 * buffer. Every view starts at a multiple of VIEW_ALIGN_ELEMENTS (64 floats = 256 bytes,
 * WebGPU's minStorageBufferOffsetAlignment), so GPU bindings can use the offsets; the gaps are
 * zero and stay zero (their gradient is 0).
 */
import { VIEW_ALIGN_ELEMENTS } from '../backend/types.ts';
import { type GPTConfig, validateConfig } from './config.ts';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Offset in floats into the flat buffer (a multiple of VIEW_ALIGN_ELEMENTS). */
  offset: number;
  /** Number of floats (product of shape). */
  length: number;
  /** Block index for h.{i}.*, -1 for the embeddings and ln_f. */
  layer: number;
}

export interface ParamLayout {
  config: GPTConfig;
  specs: ParamSpec[];
  byName: Map<string, ParamSpec>;
  /** Total floats of the flat buffer, padding included. */
  totalLength: number;
  /** Floats that are parameters (padding excluded). */
  numParams: number;
}

export const BLOCK_PARAM_NAMES = [
  'ln_1.weight',
  'ln_1.bias',
  'attn.c_attn.weight',
  'attn.c_attn.bias',
  'attn.c_proj.weight',
  'attn.c_proj.bias',
  'ln_2.weight',
  'ln_2.bias',
  'mlp.c_fc.weight',
  'mlp.c_fc.bias',
  'mlp.c_proj.weight',
  'mlp.c_proj.bias',
] as const;
export type BlockParamName = (typeof BLOCK_PARAM_NAMES)[number];

export function alignUp(n: number, align = VIEW_ALIGN_ELEMENTS): number {
  return Math.ceil(n / align) * align;
}

function blockShapes(C: number): Record<BlockParamName, number[]> {
  return {
    'ln_1.weight': [C],
    'ln_1.bias': [C],
    'attn.c_attn.weight': [C, 3 * C],
    'attn.c_attn.bias': [3 * C],
    'attn.c_proj.weight': [C, C],
    'attn.c_proj.bias': [C],
    'ln_2.weight': [C],
    'ln_2.bias': [C],
    'mlp.c_fc.weight': [C, 4 * C],
    'mlp.c_fc.bias': [4 * C],
    'mlp.c_proj.weight': [4 * C, C],
    'mlp.c_proj.bias': [C],
  };
}

export function buildLayout(config: GPTConfig): ParamLayout {
  const { vocabSize: V, contextLength: maxT, nLayer: L, nEmbd: C } = validateConfig(config);
  const specs: ParamSpec[] = [];
  let offset = 0;
  let numParams = 0;
  const add = (name: string, shape: number[], layer: number) => {
    const length = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, offset, length, layer });
    offset = alignUp(offset + length);
    numParams += length;
  };
  add('wte.weight', [V, C], -1);
  add('wpe.weight', [maxT, C], -1);
  const shapes = blockShapes(C);
  for (let l = 0; l < L; l++) for (const n of BLOCK_PARAM_NAMES) add(`h.${l}.${n}`, shapes[n], l);
  add('ln_f.weight', [C], -1);
  add('ln_f.bias', [C], -1);
  return { config, specs, byName: new Map(specs.map((s) => [s.name, s])), totalLength: offset, numParams };
}

/** [start, end) float range of the flat buffer holding blocks [firstLayer, endLayer). */
export function blockRange(layout: ParamLayout, firstLayer: number, endLayer: number): [number, number] {
  const first = layout.byName.get(`h.${firstLayer}.${BLOCK_PARAM_NAMES[0]}`)!;
  const last = layout.byName.get(`h.${endLayer - 1}.${BLOCK_PARAM_NAMES[BLOCK_PARAM_NAMES.length - 1]}`)!;
  return [first.offset, alignUp(last.offset + last.length)];
}
