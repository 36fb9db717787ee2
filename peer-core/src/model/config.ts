/**
 * GPT-2-style decoder config (vocabulary, context, layers, heads, width) and presets. Only
 * shapes live here; initialization is in init.ts and the parameter layout in layout.ts.
 */
import { ConfigError } from './errors.ts';

export interface GPTConfig {
  /** Vocabulary size V. */
  vocabSize: number;
  /** Maximum sequence length (positions in wpe). */
  contextLength: number;
  /** Number of transformer blocks L. */
  nLayer: number;
  /** Number of attention heads NH; nEmbd must be a multiple of it. */
  nHead: number;
  /** Width C. */
  nEmbd: number;
}

export const GPT_PRESETS = {
  /** A few thousand parameters: unit tests. */
  nano: { vocabSize: 64, contextLength: 16, nLayer: 2, nHead: 2, nEmbd: 32 },
  /** The GPT-2 small (124M) shape. */
  gpt2: { vocabSize: 50257, contextLength: 1024, nLayer: 12, nHead: 12, nEmbd: 768 },
} as const satisfies Record<string, GPTConfig>;

export function validateConfig(c: GPTConfig): GPTConfig {
  for (const k of ['vocabSize', 'contextLength', 'nLayer', 'nHead', 'nEmbd'] as const) {
    const v = c[k];
    if (!Number.isInteger(v) || v <= 0) throw new ConfigError(`GPT config: ${k} must be a positive integer, got ${v}`);
  }
  if (c.nEmbd % c.nHead !== 0) throw new ConfigError(`GPT config: nEmbd ${c.nEmbd} is not a multiple of nHead ${c.nHead}`);
  return c;
}
