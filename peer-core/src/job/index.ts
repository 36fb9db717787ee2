/**
 * Job spec: parse and validate the JSON document that describes a training job (see schema.ts),
 * with field-level errors, plus the defaults of the small demo job and the mapping onto the
 * codec and gossip options.
 * authority.ts: signed job announcements and control messages (the host's Ed25519 key) and
 * the ControlGate every peer runs on them.
 * Not here: publishing jobs on the swarm (runtime/jobs.ts) or persisting them (relay/src/jobs.ts).
 */
import type { CodecSpec } from '../codecs/index.ts';
import type { GossipInit } from '../gossip/base.ts';
import { JobSpecError, type JobSpecIssue } from './errors.ts';
import { type JobSpec, type JobSpecInput, JobSpecSchema } from './schema.ts';

export * from './authority.ts';
export * from './errors.ts';
export * from './schema.ts';

function issuesOf(err: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): JobSpecIssue[] {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/** Validate a job document (JSON text or an already-parsed value); throws JobSpecError listing every problem. */
export function parseJobSpec(json: string | unknown): JobSpec {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new JobSpecError([{ path: '', message: `not valid JSON: ${(e as Error).message}` }]);
    }
  }
  const r = JobSpecSchema.safeParse(value);
  if (!r.success) throw new JobSpecError(issuesOf(r.error));
  return r.data;
}

/** Like parseJobSpec but returns the issues instead of throwing. */
export function checkJobSpec(json: string | unknown): { ok: true; spec: JobSpec } | { ok: false; issues: JobSpecIssue[] } {
  try {
    return { ok: true, spec: parseJobSpec(json) };
  } catch (e) {
    if (e instanceof JobSpecError) return { ok: false, issues: e.issues };
    throw e;
  }
}

/** The small demo job: a tiny byte-level GPT on Moby Dick, CHOCO-SGD + int8 on an exponential graph. */
export function defaultJobSpec(overrides: JobSpecInput = {}): JobSpec {
  return parseJobSpec(overrides);
}

/** The codec spec a job asks for. */
export function jobCodec(spec: JobSpec): CodecSpec {
  const { name, fraction, blockSize, errorFeedback } = spec.codec;
  return { name, fraction, blockSize, errorFeedback };
}

/** Averager options (minus the transport) a job asks for. */
export function jobGossipOptions(spec: JobSpec): Omit<GossipInit, 'transport'> & { gamma?: number; maxStaleness?: number } {
  return {
    codec: jobCodec(spec),
    topology: spec.topology.kind,
    topologyOptions: { degree: spec.topology.degree, seed: spec.topology.seed },
    timeoutMs: spec.algorithm.timeoutMs,
    deflate: spec.codec.deflate,
    gamma: spec.algorithm.gamma,
    maxStaleness: spec.algorithm.maxStaleness,
  };
}
