/**
 * The job form's fields, presets and validation.
 *
 * The form edits a job spec as nested JSON through dotted paths (`model.nLayer`). Validation
 * returns field-level errors keyed by those paths so each message shows next to its field.
 *
 * Until peer-core's job module (zod schema, `parseJobSpec`) is in this build, the form checks
 * the spec with the rules below (the model shape rules are the ones of peer-core's
 * `validateConfig`). This file is the only place that changes when it lands.
 */
import { getPath } from './paths.ts';

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

export const DATASETS = ['moby-dick', 'sotu', 'brown'] as const;
export const OPTIMIZERS = ['adamw', 'sgd'] as const;
export const ALGORITHMS = ['allreduce', 'dpsgd', 'choco'] as const;
export const CODECS = ['none', 'fp16', 'int8', 'topk', 'sign', 'randomk'] as const;

export const FIELDS: readonly FieldDef[] = [
  { path: 'name', label: 'Name', kind: 'text', section: 'Job' },
  { path: 'model.nLayer', label: 'Layers', kind: 'number', section: 'Model', min: 1, max: 48, integer: true },
  { path: 'model.nHead', label: 'Heads', kind: 'number', section: 'Model', min: 1, max: 64, integer: true },
  { path: 'model.nEmbd', label: 'Width', kind: 'number', section: 'Model', min: 8, max: 4096, integer: true, hint: 'multiple of heads' },
  { path: 'model.contextLength', label: 'Context', kind: 'number', section: 'Model', min: 4, max: 2048, integer: true, hint: 'tokens' },
  { path: 'data.dataset', label: 'Dataset', kind: 'select', section: 'Data', options: DATASETS },
  { path: 'data.heldoutFraction', label: 'Held-out share', kind: 'number', section: 'Data', min: 0.01, max: 0.5, step: 0.01 },
  { path: 'optimizer.kind', label: 'Optimizer', kind: 'select', section: 'Training', options: OPTIMIZERS },
  { path: 'optimizer.lr', label: 'Learning rate', kind: 'number', section: 'Training', min: 1e-6, max: 1, step: 0.0001 },
  { path: 'batch.perPeer', label: 'Batch per peer', kind: 'number', section: 'Training', min: 1, max: 512, integer: true, hint: 'sequences' },
  { path: 'stop.maxSteps', label: 'Max steps', kind: 'number', section: 'Training', min: 1, max: 1_000_000, integer: true },
  { path: 'algorithm.kind', label: 'Algorithm', kind: 'select', section: 'Swarm', options: ALGORITHMS },
  { path: 'algorithm.codec', label: 'Codec', kind: 'select', section: 'Swarm', options: CODECS },
];

export interface JobSpecDraft {
  name: string;
  model: { nLayer: number; nHead: number; nEmbd: number; contextLength: number };
  data: { dataset: string; heldoutFraction: number };
  optimizer: { kind: string; lr: number };
  batch: { perPeer: number };
  stop: { maxSteps: number };
  algorithm: { kind: string; codec: string };
}

export interface Preset {
  id: string;
  label: string;
  description: string;
  spec: JobSpecDraft;
}

export const PRESETS: readonly Preset[] = [
  {
    id: 'demo',
    label: 'Tiny demo',
    description: '2 layers, width 32: trains in seconds on any device',
    spec: {
      name: 'tiny-demo',
      model: { nLayer: 2, nHead: 2, nEmbd: 32, contextLength: 32 },
      data: { dataset: 'moby-dick', heldoutFraction: 0.05 },
      optimizer: { kind: 'adamw', lr: 0.003 },
      batch: { perPeer: 4 },
      stop: { maxSteps: 2000 },
      algorithm: { kind: 'dpsgd', codec: 'int8' },
    },
  },
  {
    id: 'small',
    label: 'Small',
    description: '4 layers, width 128: a few minutes with WebGPU',
    spec: {
      name: 'small',
      model: { nLayer: 4, nHead: 4, nEmbd: 128, contextLength: 64 },
      data: { dataset: 'moby-dick', heldoutFraction: 0.05 },
      optimizer: { kind: 'adamw', lr: 0.001 },
      batch: { perPeer: 8 },
      stop: { maxSteps: 5000 },
      algorithm: { kind: 'choco', codec: 'topk' },
    },
  },
  {
    id: 'medium',
    label: 'Medium',
    description: '8 layers, width 256: needs a swarm of GPUs',
    spec: {
      name: 'medium',
      model: { nLayer: 8, nHead: 8, nEmbd: 256, contextLength: 128 },
      data: { dataset: 'sotu', heldoutFraction: 0.05 },
      optimizer: { kind: 'adamw', lr: 0.0006 },
      batch: { perPeer: 8 },
      stop: { maxSteps: 20000 },
      algorithm: { kind: 'choco', codec: 'sign' },
    },
  },
];

export type Validation<S> = { ok: true; spec: S } | { ok: false; errors: Record<string, string>; formErrors: string[] };

/** Field-level validation of a draft spec (see the header for what checks it). Pure. */
export function validateJobSpec(input: unknown): Validation<JobSpecDraft> {
  const errors: Record<string, string> = {};
  const formErrors: string[] = [];
  if (!input || typeof input !== 'object') return { ok: false, errors, formErrors: ['the job spec must be an object'] };
  for (const f of FIELDS) {
    const v = getPath(input, f.path);
    if (f.kind === 'text') {
      if (typeof v !== 'string' || !v.trim()) errors[f.path] = `${f.label} is required`;
      else if (v.length > 64) errors[f.path] = `${f.label} must be at most 64 characters`;
    } else if (f.kind === 'select') {
      if (typeof v !== 'string' || !f.options?.includes(v)) errors[f.path] = `${f.label} must be one of ${f.options?.join(', ')}`;
    } else {
      if (typeof v !== 'number' || !Number.isFinite(v)) errors[f.path] = `${f.label} must be a number`;
      else if (f.integer && !Number.isInteger(v)) errors[f.path] = `${f.label} must be a whole number`;
      else if (f.min !== undefined && v < f.min) errors[f.path] = `${f.label} must be at least ${f.min}`;
      else if (f.max !== undefined && v > f.max) errors[f.path] = `${f.label} must be at most ${f.max}`;
    }
  }
  const h = getPath(input, 'model.nHead');
  const c = getPath(input, 'model.nEmbd');
  if (!errors['model.nEmbd'] && !errors['model.nHead'] && typeof h === 'number' && typeof c === 'number' && c % h !== 0) {
    errors['model.nEmbd'] = `Width ${c} must be a multiple of the number of heads (${h})`;
  }
  if (Object.keys(errors).length || formErrors.length) return { ok: false, errors, formErrors };
  return { ok: true, spec: input as JobSpecDraft };
}

/** Which validator this build uses, for the form's footnote. */
export const VALIDATOR_NOTE = 'Checked in the page (peer-core job schema not in this build yet).';
