/**
 * Job authority: who may start, pause and stop a job.
 *
 * The host's identity is a libp2p Ed25519 key. A job is announced as a signed envelope
 * whose job id embeds the host's peer id (`<hostPeerId>/<random>`), so a job id names its
 * host and nobody else can announce or control it. Control messages (start/pause/resume/
 * stop) are signed envelopes too, numbered by `seq`; `ControlGate` is what a peer runs on
 * everything it hears: it admits a control message only when it is signed by the key of the
 * job's host, the signature covers exactly these bytes, and `seq` is newer than the last one
 * admitted (no replays).
 *
 * Signed bytes: `swarmgrad/v1/<kind>\n` + canonical JSON of the payload (object keys
 * sorted, no whitespace), so the same payload signs identically everywhere.
 *
 * Pure: no IndexedDB, no network, no DOM; it never throws on a malformed envelope (network
 * input) and answers `{ ok: false, reason }` instead. Storage of the key is in `db.ts`.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf, publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys';

export type HostKey = ReturnType<typeof privateKeyFromProtobuf>;
export type HostPublicKey = ReturnType<typeof publicKeyFromProtobuf>;

export const SIGNING_DOMAIN = 'swarmgrad/v1/';

export type ControlAction = 'start' | 'pause' | 'resume' | 'stop';
export const CONTROL_ACTIONS: readonly ControlAction[] = ['start', 'pause', 'resume', 'stop'];

/** A signed payload: the payload, the signer's protobuf public key and the signature (base64). */
export interface Signed<K extends string, T> {
  kind: K;
  payload: T;
  signer: string;
  signature: string;
}

export interface JobAnnouncement<S = unknown> {
  /** `<hostPeerId>/<16 hex>`: the host part must be the signer's peer id. */
  jobId: string;
  spec: S;
  /** ms since epoch, from the host's clock (informational). */
  createdAt: number;
}

export interface ControlMessage {
  jobId: string;
  action: ControlAction;
  /** Strictly increasing per job; a gate drops anything not newer than the last admitted. */
  seq: number;
  issuedAt: number;
}

export type SignedJob<S = unknown> = Signed<'job', JobAnnouncement<S>>;
export type SignedControl = Signed<'control', ControlMessage>;

export type Verdict<T> = { ok: true; value: T; host: string } | { ok: false; reason: string };

// ---- keys -------------------------------------------------------------------------------

export async function generateHostKey(): Promise<HostKey> {
  return generateKeyPair('Ed25519');
}

export function hostKeyToBytes(key: HostKey): Uint8Array {
  return privateKeyToProtobuf(key);
}

export function hostKeyFromBytes(bytes: Uint8Array): HostKey {
  return privateKeyFromProtobuf(bytes);
}

/** The peer id string (base58btc identity multihash) of a key. */
export function peerIdOf(key: HostKey | HostPublicKey): string {
  return 'publicKey' in key ? key.publicKey.toString() : key.toString();
}

// ---- encoding ---------------------------------------------------------------------------

/** JSON with object keys sorted at every level and no whitespace. Rejects non-finite numbers. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode ${typeof value}`);
}

export function signedBytes(kind: string, payload: unknown): Uint8Array {
  return new TextEncoder().encode(`${SIGNING_DOMAIN}${kind}\n${canonicalJson(payload)}`);
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// ---- signing ----------------------------------------------------------------------------

export async function sign<K extends string, T>(key: HostKey, kind: K, payload: T): Promise<Signed<K, T>> {
  const signature = await key.sign(signedBytes(kind, payload));
  return { kind, payload, signer: toBase64(publicKeyToProtobuf(key.publicKey)), signature: toBase64(signature) };
}

/** Announce a job: a fresh job id under the host's peer id, signed. */
export async function signJob<S>(key: HostKey, spec: S, createdAt = Date.now()): Promise<SignedJob<S>> {
  return sign(key, 'job', { jobId: `${peerIdOf(key)}/${randomHex(8)}`, spec, createdAt });
}

export async function signControl(key: HostKey, jobId: string, action: ControlAction, seq: number, issuedAt = Date.now()): Promise<SignedControl> {
  return sign(key, 'control', { jobId, action, seq, issuedAt });
}

/** The host peer id a job id names (everything before the last '/'), or null. */
export function hostOfJobId(jobId: string): string | null {
  const i = jobId.lastIndexOf('/');
  return i > 0 ? jobId.slice(0, i) : null;
}

/**
 * Check an envelope's shape and signature. Returns the signer's peer id. Never throws.
 */
export async function verifySigned<K extends string, T>(env: unknown, kind: K): Promise<Verdict<Signed<K, T>>> {
  if (!env || typeof env !== 'object') return { ok: false, reason: 'not an object' };
  const e = env as Partial<Signed<string, unknown>>;
  if (e.kind !== kind) return { ok: false, reason: `expected a '${kind}' envelope, got '${String(e.kind)}'` };
  if (typeof e.signer !== 'string' || typeof e.signature !== 'string') return { ok: false, reason: 'missing signer or signature' };
  let pub: HostPublicKey;
  let sig: Uint8Array;
  let data: Uint8Array;
  try {
    pub = publicKeyFromProtobuf(fromBase64(e.signer));
    sig = fromBase64(e.signature);
    data = signedBytes(kind, e.payload);
  } catch (err) {
    return { ok: false, reason: `malformed envelope: ${(err as Error).message}` };
  }
  if (pub.type !== 'Ed25519') return { ok: false, reason: `signer key must be Ed25519, got ${pub.type}` };
  let valid = false;
  try {
    valid = await pub.verify(data, sig);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'bad signature' };
  return { ok: true, value: e as Signed<K, T>, host: peerIdOf(pub) };
}

export async function verifyJob<S = unknown>(env: unknown): Promise<Verdict<JobAnnouncement<S>>> {
  const v = await verifySigned<'job', JobAnnouncement<S>>(env, 'job');
  if (!v.ok) return v;
  const p = v.value.payload;
  if (!p || typeof p.jobId !== 'string') return { ok: false, reason: 'job announcement without a jobId' };
  if (hostOfJobId(p.jobId) !== v.host) return { ok: false, reason: `job ${p.jobId} is not under its signer's peer id ${v.host}` };
  return { ok: true, value: p, host: v.host };
}

export async function verifyControl(env: unknown): Promise<Verdict<ControlMessage>> {
  const v = await verifySigned<'control', ControlMessage>(env, 'control');
  if (!v.ok) return v;
  const p = v.value.payload;
  if (!p || typeof p.jobId !== 'string') return { ok: false, reason: 'control message without a jobId' };
  if (!CONTROL_ACTIONS.includes(p.action)) return { ok: false, reason: `unknown action '${String(p.action)}'` };
  if (!Number.isSafeInteger(p.seq) || p.seq < 0) return { ok: false, reason: 'seq must be a non-negative integer' };
  if (hostOfJobId(p.jobId) !== v.host) return { ok: false, reason: `signed by ${v.host}, not by the host of job ${p.jobId}` };
  return { ok: true, value: p, host: v.host };
}

/**
 * What a peer runs on every job announcement and control message it hears.
 * A control message is admitted only for a known job, signed by that job's host, with a
 * seq newer than the last admitted one.
 */
export class ControlGate {
  private readonly jobs = new Map<string, { host: string; lastSeq: number }>();

  async admitJob<S = unknown>(env: unknown): Promise<Verdict<JobAnnouncement<S>>> {
    const v = await verifyJob<S>(env);
    if (v.ok && !this.jobs.has(v.value.jobId)) this.jobs.set(v.value.jobId, { host: v.host, lastSeq: -1 });
    return v;
  }

  async admitControl(env: unknown): Promise<Verdict<ControlMessage>> {
    const v = await verifyControl(env);
    if (!v.ok) return v;
    const job = this.jobs.get(v.value.jobId);
    if (!job) return { ok: false, reason: `unknown job ${v.value.jobId}` };
    if (v.host !== job.host) return { ok: false, reason: `signed by ${v.host}, not by the job's host ${job.host}` };
    if (v.value.seq <= job.lastSeq) return { ok: false, reason: `replayed or stale seq ${v.value.seq} (last ${job.lastSeq})` };
    job.lastSeq = v.value.seq;
    return v;
  }

  knows(jobId: string): boolean {
    return this.jobs.has(jobId);
  }
}
