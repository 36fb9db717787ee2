/**
 * The training engine as the web app uses it: one import point for peer-core's model,
 * training, checkpoint, data, tokenizer and backends.
 *
 * The modules are imported by path rather than through `@swarmgrad/peer-core`'s index so the
 * training worker's bundle does not pull in the networking stack (libp2p) it never uses.
 */
export { GPT } from '../../../peer-core/src/model/index.ts';
export type { GPTConfig } from '../../../peer-core/src/model/index.ts';
export { AdamW, SgdMomentum, evalLoss, generate, trainStep, warmupCosine } from '../../../peer-core/src/train/index.ts';
export type { Batch, Optimizer } from '../../../peer-core/src/train/index.ts';
export { saveCheckpoint } from '../../../peer-core/src/checkpoint/index.ts';
export { TokenDataset, fetchCorpusText } from '../../../peer-core/src/data/index.ts';
export { ByteTokenizer, CharTokenizer, createGpt2Tokenizer } from '../../../peer-core/src/tokenizer/index.ts';
export type { Tokenizer } from '../../../peer-core/src/tokenizer/index.ts';
export { createCpuBackend } from '../../../peer-core/src/backend/index.ts';
export type { Backend } from '../../../peer-core/src/backend/index.ts';
export { createWasmBackend } from '../../../peer-core/src/backend/wasm/index.ts';
export { createWebGpuBackend } from '../../../peer-core/src/backend/webgpu/index.ts';
