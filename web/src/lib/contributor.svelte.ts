/**
 * The volunteer's participation in a job: joins the swarm and the current job, runs the
 * training loop under the compute limit, and folds what it does into the persisted totals.
 *
 * Availability is decided by what this build contains (see `contributionAvailability`):
 * nothing is simulated — when the engine is missing, the page says so.
 */
import { addToTotals, loadSession, saveSession, type Totals, type VolunteerSession } from './db.ts';

export type ContributionState = 'idle' | 'connecting' | 'training' | 'paused' | 'error';

export interface ContributionStatus {
  state: ContributionState;
  jobId: string | null;
  role: string | null;
  steps: number;
  tokensPerSecond: number | null;
  loss: number | null;
  bytesUp: number;
  bytesDown: number;
  bytesUpPerSecond: number;
  bytesDownPerSecond: number;
  peers: number | null;
  dutyCycle: number | null;
  notice?: string;
  error?: string;
}

export interface Availability {
  ok: boolean;
  reason?: string;
  note?: string;
}

export function contributionAvailability(): Availability {
  return {
    ok: false,
    reason:
      'Contributing is not available in this build yet: the training engine (model + backend) and the swarm networking have not landed. The device check and benchmark on this page are real.',
  };
}

export interface ContributorInit {
  computeLimit: number;
  backend: 'webgpu' | 'wasm';
  gflops: number | null;
  onTotals(t: Totals): void;
  onSession(s: VolunteerSession): void;
}

export class Contributor {
  status = $state<ContributionStatus>({
    state: 'idle',
    jobId: null,
    role: null,
    steps: 0,
    tokensPerSecond: null,
    loss: null,
    bytesUp: 0,
    bytesDown: 0,
    bytesUpPerSecond: 0,
    bytesDownPerSecond: 0,
    peers: null,
    dutyCycle: null,
  });
  private computeLimit: number;
  private readonly init: ContributorInit;

  constructor(init: ContributorInit) {
    this.init = init;
    this.computeLimit = init.computeLimit;
  }

  async start(_jobId: string | null): Promise<void> {
    const a = contributionAvailability();
    if (!a.ok) {
      this.status.state = 'error';
      this.status.error = a.reason;
      return;
    }
  }

  async pause(): Promise<void> {
    this.init.onSession(await saveSession({ paused: true }));
    this.status.state = 'paused';
  }

  async resume(): Promise<void> {
    this.init.onSession(await saveSession({ paused: false }));
    this.status.state = 'training';
  }

  setComputeLimit(share: number): void {
    this.computeLimit = share;
  }

  /** Stop and forget the job (the session no longer resumes it). */
  async leave(): Promise<void> {
    await this.detach();
    this.init.onSession(await saveSession({ jobId: null, paused: false, joinedAt: null }));
  }

  /** Stop computing but keep the session (page unload: it resumes on reload). */
  async detach(): Promise<void> {
    this.status.state = 'idle';
  }

  protected async record(delta: Partial<Omit<Totals, 'id' | 'updatedAt'>>): Promise<void> {
    this.init.onTotals(await addToTotals(delta));
  }

  get limit(): number {
    return this.computeLimit;
  }

  static async session(): Promise<VolunteerSession> {
    return loadSession();
  }
}
