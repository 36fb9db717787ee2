/**
 * The job form's fields, presets and validation, on top of peer-core's job spec (zod schema,
 * `checkJobSpec` with field-level issues, `defaultJobSpec` for the demo job).
 *
 * The form edits the full spec (every default filled in) through dotted paths
 * (`model.nLayer`); fields it does not show keep their defaults. Validation returns the
 * schema's issues keyed by path so each message shows next to its field; issues at paths the
 * form does not show are listed above the form with their path.
 */
import { checkJobSpec, defaultJobSpec, type JobSpec, type JobSpecInput } from '@swarmgrad/peer-core/job';

export type { JobSpec };

export type FieldKind = 'number' | 'text' | 'select';

export interface FieldDef {
  path: string;
  label: string;
  kind: FieldKind;
  section: string;
  hint?: string;
  options?: readonly string[];
  step?: number;
  min?: number;
  max?: number;
  integer?: boolean;
}

export const FIELDS: readonly FieldDef[] = [
  { path: 'name', label: 'Name', kind: 'text', section: 'Job' },
  { path: 'model.nLayer', label: 'Layers', kind: 'number', section: 'Model', integer: true },
  { path: 'model.nHead', label: 'Heads', kind: 'number', section: 'Model', integer: true, hint: 'must divide width' },
  { path: 'model.nEmbd', label: 'Width', kind: 'number', section: 'Model', integer: true },
  { path: 'model.contextLength', label: 'Context', kind: 'number', section: 'Model', integer: true, hint: 'tokens' },
  { path: 'model.vocabSize', label: 'Vocabulary', kind: 'number', section: 'Model', integer: true, hint: 'byte 256, gpt2 50257' },
  { path: 'dataset.corpus', label: 'Corpus', kind: 'select', section: 'Data', options: ['moby-dick', 'sotu', 'brown'] },
  { path: 'dataset.tokenizer', label: 'Tokenizer', kind: 'select', section: 'Data', options: ['byte', 'char', 'gpt2'] },
  { path: 'dataset.heldOutFraction', label: 'Held-out share', kind: 'number', section: 'Data', step: 0.01 },
  { path: 'optimizer.kind', label: 'Optimizer', kind: 'select', section: 'Training', options: ['adamw', 'sgd'] },
  { path: 'optimizer.lr', label: 'Learning rate', kind: 'number', section: 'Training', step: 0.0001 },
  { path: 'schedule.warmupSteps', label: 'Warm-up', kind: 'number', section: 'Training', integer: true, hint: 'steps' },
  { path: 'batch.perPeer', label: 'Batch per peer', kind: 'number', section: 'Training', integer: true, hint: 'sequences' },
  { path: 'stopping.maxSteps', label: 'Max steps', kind: 'number', section: 'Training', integer: true },
  { path: 'stopping.evalEverySteps', label: 'Eval every', kind: 'number', section: 'Training', integer: true, hint: 'steps' },
  { path: 'algorithm.name', label: 'Algorithm', kind: 'select', section: 'Swarm', options: ['choco', 'dpsgd', 'adpsgd', 'allreduce'] },
  { path: 'topology.kind', label: 'Topology', kind: 'select', section: 'Swarm', options: ['exponential', 'ring', 'random-regular', 'full'] },
  { path: 'codec.name', label: 'Codec', kind: 'select', section: 'Swarm', options: ['int8', 'fp16', 'topk', 'sign', 'randomk', 'none'] },
  { path: 'mixing.everySteps', label: 'Gossip every', kind: 'number', section: 'Swarm', integer: true, hint: 'local steps' },
];

export interface Preset {
  id: string;
  label: string;
  description: string;
  spec: JobSpec;
}

const preset = (id: string, label: string, description: string, overrides: JobSpecInput): Preset => ({ id, label, description, spec: defaultJobSpec(overrides) });

export const PRESETS: readonly Preset[] = [
  preset('demo', 'Tiny demo', '2 layers, width 64, byte-level Moby Dick, AD-PSGD: trains in seconds', {
    name: 'tiny demo: byte GPT on Moby Dick',
    optimizer: { lr: 0.003 },
    algorithm: { name: 'adpsgd' },
    stopping: { maxSteps: 2000, evalEverySteps: 25 },
  }),
  preset('small', 'Small', '4 layers, width 128: a few minutes with WebGPU', {
    name: 'small GPT on Moby Dick',
    model: { nLayer: 4, nHead: 4, nEmbd: 128, contextLength: 128 },
    optimizer: { lr: 0.001 },
    schedule: { warmupSteps: 100 },
    stopping: { maxSteps: 5000, evalEverySteps: 50 },
    algorithm: { name: 'adpsgd' },
    codec: { name: 'topk', fraction: 0.05 },
  }),
  preset('medium', 'Medium', '8 layers, width 256 on State of the Union: needs a swarm', {
    name: 'medium GPT on State of the Union',
    model: { nLayer: 8, nHead: 8, nEmbd: 256, contextLength: 256 },
    dataset: { corpus: 'sotu' },
    optimizer: { lr: 0.0006 },
    schedule: { warmupSteps: 200 },
    stopping: { maxSteps: 20000, evalEverySteps: 100 },
    codec: { name: 'sign' },
  }),
];

export type Validation<S> = { ok: true; spec: S } | { ok: false; errors: Record<string, string>; formErrors: string[] };

/** Validate with peer-core's schema; issues keyed by path (pure). */
export function validateJobSpec(input: unknown): Validation<JobSpec> {
  const r = checkJobSpec(input);
  if (r.ok) return { ok: true, spec: r.spec };
  const shown = new Set(FIELDS.map((f) => f.path));
  const errors: Record<string, string> = {};
  const formErrors: string[] = [];
  for (const i of r.issues) {
    if (shown.has(i.path)) errors[i.path] ??= i.message;
    else formErrors.push(i.path ? `${i.path}: ${i.message}` : i.message);
  }
  return { ok: false, errors, formErrors };
}

/** Which validator this build uses, for the form's footnote. */
export const VALIDATOR_NOTE = 'Validated with the swarm job schema; the host signs the spec before publishing it.';
