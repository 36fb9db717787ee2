/**
 * GPT checkpoints in safetensors with the Hugging Face GPT-2 tensor names (see model/layout.ts),
 * so a real GPT-2 `model.safetensors` loads and our files load in `transformers`
 * (GPT2Model/GPT2LMHeadModel.from_pretrained with a matching config).
 *
 * Loading accepts the names with or without the `transformer.` prefix (GPT2LMHeadModel state
 * dicts), ignores `lm_head.weight` (tied to wte) and the attention mask buffers `attn.bias` /
 * `attn.masked_bias` that old checkpoints carry; any other missing, extra or misshapen tensor
 * is a CheckpointMismatchError.
 */
import type { GPTConfig } from '../model/config.ts';
import type { Backend } from '../backend/types.ts';
import { validateConfig } from '../model/config.ts';
import { GPT } from '../model/gpt.ts';
import { buildLayout, type ParamLayout } from '../model/layout.ts';
import { CheckpointMismatchError } from './errors.ts';
import { readSafetensors, type TensorToWrite, writeSafetensors } from './safetensors.ts';

const IGNORED = /^(lm_head\.weight|h\.\d+\.attn\.(bias|masked_bias))$/;

/** The flat parameter buffer of `layout` filled from a parsed safetensors file. */
export function flatParamsFromSafetensors(bytes: Uint8Array, layout: ParamLayout): Float32Array {
  const file = readSafetensors(bytes);
  const byName = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
  for (const [raw, t] of file.tensors) {
    const name = raw.startsWith('transformer.') ? raw.slice('transformer.'.length) : raw;
    if (IGNORED.test(name)) continue;
    if (!layout.byName.has(name)) throw new CheckpointMismatchError(`checkpoint tensor '${raw}' is not a parameter of this model`);
    byName.set(name, t);
  }
  const flat = new Float32Array(layout.totalLength);
  for (const spec of layout.specs) {
    const t = byName.get(spec.name);
    if (!t) throw new CheckpointMismatchError(`checkpoint lacks '${spec.name}'`);
    if (!(t.data instanceof Float32Array)) throw new CheckpointMismatchError(`'${spec.name}' is an integer tensor`);
    if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) {
      throw new CheckpointMismatchError(`'${spec.name}' has shape ${JSON.stringify(t.shape)}, the model needs ${JSON.stringify(spec.shape)}`);
    }
    flat.set(t.data, spec.offset);
  }
  return flat;
}

/** The GPT config a GPT-2 safetensors file implies (vocab, context, width, layers); heads must be given. */
export function configFromSafetensors(bytes: Uint8Array, nHead: number): GPTConfig {
  const { tensors } = readSafetensors(bytes);
  const get = (n: string) => tensors.get(n) ?? tensors.get(`transformer.${n}`);
  const wte = get('wte.weight');
  const wpe = get('wpe.weight');
  if (!wte || !wpe) throw new CheckpointMismatchError('checkpoint lacks wte.weight / wpe.weight');
  let nLayer = 0;
  while (get(`h.${nLayer}.ln_1.weight`)) nLayer++;
  return { vocabSize: wte.shape[0], nEmbd: wte.shape[1], contextLength: wpe.shape[0], nLayer, nHead };
}

/** Serializes a flat parameter buffer with the Hugging Face names. */
export function flatParamsToSafetensors(flat: Float32Array, layout: ParamLayout, metadata: Record<string, string> = {}): Uint8Array {
  if (flat.length !== layout.totalLength) throw new CheckpointMismatchError(`flat params hold ${flat.length} floats, the layout needs ${layout.totalLength}`);
  const tensors = new Map<string, TensorToWrite>();
  for (const s of layout.specs) tensors.set(s.name, { shape: s.shape, data: flat.slice(s.offset, s.offset + s.length) });
  return writeSafetensors(tensors, { format: 'pt', ...metadata });
}

/** Saves a model's parameters as a GPT-2 safetensors file. */
export async function saveCheckpoint(model: GPT, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  return flatParamsToSafetensors(await model.getParams(), model.layout, { swarmgrad_config: JSON.stringify(model.config), ...metadata });
}

/** Loads a GPT-2 safetensors file into a model (shapes must match its config). */
export function loadCheckpoint(model: GPT, bytes: Uint8Array): void {
  model.setParams(flatParamsFromSafetensors(bytes, model.layout));
}

/** Layout of a config (convenience for callers that have no model yet). */
export function layoutFor(config: GPTConfig): ParamLayout {
  return buildLayout(config);
}

/**
 * A new model from a checkpoint. The config comes from our `swarmgrad_config` metadata when the
 * file has it, else from the tensor shapes plus `nHead` (which shapes cannot tell; 12 for GPT-2).
 */
export function modelFromCheckpoint(backend: Backend, bytes: Uint8Array, { nHead }: { nHead?: number } = {}): GPT {
  const meta = readSafetensors(bytes).metadata.swarmgrad_config;
  let config: GPTConfig;
  if (meta) {
    try {
      config = JSON.parse(meta) as GPTConfig;
    } catch {
      throw new CheckpointMismatchError('swarmgrad_config metadata is not JSON');
    }
  } else {
    if (nHead === undefined) throw new CheckpointMismatchError('the file has no swarmgrad_config metadata; pass nHead');
    config = configFromSafetensors(bytes, nHead);
  }
  const model = new GPT(backend, validateConfig(config));
  loadCheckpoint(model, bytes);
  return model;
}
