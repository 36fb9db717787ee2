/**
 * What the web app keeps in IndexedDB (through Dexie), so it survives a reload:
 *  - `keys`: the volunteer's and the host's libp2p Ed25519 keys (protobuf bytes);
 *  - `totals`: the volunteer's contribution totals (steps, tokens, bytes up/down, seconds);
 *  - `sessions`: the volunteer's current participation (job id, paused, compute limit), so a
 *    job in progress resumes after a reload;
 *  - `jobs`: the host's jobs (signed announcement, state, control seq, last step and loss);
 *  - `weights`: the latest parameters of a job trained in this browser (resume after reload).
 *
 * Not here: the signing logic (authority.ts) or any networking.
 */
import Dexie, { type EntityTable } from 'dexie';
import { generateHostKey, type HostKey, hostKeyFromBytes, hostKeyToBytes } from '@swarmgrad/peer-core/job';

export type KeyRole = 'volunteer' | 'host';

export interface KeyRow {
  role: KeyRole;
  /** privateKeyToProtobuf bytes. */
  key: Uint8Array;
  createdAt: number;
}

export interface Totals {
  id: 'volunteer';
  steps: number;
  tokens: number;
  bytesUp: number;
  bytesDown: number;
  /** Seconds spent computing. */
  computeSeconds: number;
  updatedAt: number;
}

export interface VolunteerSession {
  id: 'volunteer';
  /** Job being contributed to; null when not contributing. */
  jobId: string | null;
  paused: boolean;
  /** Share of wall time spent computing, 0.1 .. 1. */
  computeLimit: number;
  consented: boolean;
  joinedAt: number | null;
}

export type JobState = 'created' | 'running' | 'paused' | 'stopped';

export interface HostJobRow {
  jobId: string;
  /** The SignedJob envelope (JSON-safe). */
  signed: unknown;
  state: JobState;
  /** Last control seq issued. */
  seq: number;
  createdAt: number;
  updatedAt: number;
  /** Last step trained and its loss, for the job list. */
  step: number;
  loss: number | null;
}

/** The latest weights of a job trained in this browser, so it resumes after a reload. */
export interface WeightsRow {
  /** `weightsKey(role, jobId)`: a host tab and a volunteer tab of one browser keep separate replicas. */
  jobId: string;
  params: Float32Array;
  step: number;
  savedAt: number;
}

export function weightsKey(role: KeyRole, jobId: string): string {
  return `${role}:${jobId}`;
}

export class SwarmgradDb extends Dexie {
  keys!: EntityTable<KeyRow, 'role'>;
  totals!: EntityTable<Totals, 'id'>;
  sessions!: EntityTable<VolunteerSession, 'id'>;
  jobs!: EntityTable<HostJobRow, 'jobId'>;
  weights!: EntityTable<WeightsRow, 'jobId'>;

  constructor(name = 'swarmgrad') {
    super(name);
    this.version(1).stores({ keys: 'role', totals: 'id', sessions: 'id', jobs: 'jobId, createdAt' });
    this.version(2).stores({ weights: 'jobId' });
  }
}

let instance: SwarmgradDb | undefined;
export function db(): SwarmgradDb {
  instance ??= new SwarmgradDb();
  return instance;
}

/** The stored key for `role`, created (and stored) on first use. */
export async function loadOrCreateKey(role: KeyRole, d: SwarmgradDb = db()): Promise<HostKey> {
  const row = await d.keys.get(role);
  if (row) return hostKeyFromBytes(new Uint8Array(row.key));
  const key = await generateHostKey();
  await d.keys.put({ role, key: hostKeyToBytes(key), createdAt: Date.now() });
  return key;
}

export const EMPTY_TOTALS: Omit<Totals, 'updatedAt'> = { id: 'volunteer', steps: 0, tokens: 0, bytesUp: 0, bytesDown: 0, computeSeconds: 0 };

export async function loadTotals(d: SwarmgradDb = db()): Promise<Totals> {
  return (await d.totals.get('volunteer')) ?? { ...EMPTY_TOTALS, updatedAt: 0 };
}

/** Adds `delta` to the stored totals in one transaction; returns the new totals. */
export async function addToTotals(delta: Partial<Omit<Totals, 'id' | 'updatedAt'>>, d: SwarmgradDb = db()): Promise<Totals> {
  return d.transaction('rw', d.totals, async () => {
    const t = await loadTotals(d);
    const next: Totals = {
      id: 'volunteer',
      steps: t.steps + (delta.steps ?? 0),
      tokens: t.tokens + (delta.tokens ?? 0),
      bytesUp: t.bytesUp + (delta.bytesUp ?? 0),
      bytesDown: t.bytesDown + (delta.bytesDown ?? 0),
      computeSeconds: t.computeSeconds + (delta.computeSeconds ?? 0),
      updatedAt: Date.now(),
    };
    await d.totals.put(next);
    return next;
  });
}

export const DEFAULT_SESSION: VolunteerSession = { id: 'volunteer', jobId: null, paused: false, computeLimit: 0.5, consented: false, joinedAt: null };

export async function loadSession(d: SwarmgradDb = db()): Promise<VolunteerSession> {
  return (await d.sessions.get('volunteer')) ?? { ...DEFAULT_SESSION };
}

export async function saveSession(patch: Partial<Omit<VolunteerSession, 'id'>>, d: SwarmgradDb = db()): Promise<VolunteerSession> {
  return d.transaction('rw', d.sessions, async () => {
    const next = { ...(await loadSession(d)), ...patch, id: 'volunteer' as const };
    await d.sessions.put(next);
    return next;
  });
}
