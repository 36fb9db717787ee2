/** Checkpoints: safetensors read/write (browser + Node) and the GPT-2 name mapping. */
export * from './errors.ts';
export * from './safetensors.ts';
export * from './gpt2.ts';
