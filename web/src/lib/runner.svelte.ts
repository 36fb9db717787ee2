/**
 * Runs the host's current job: locally in a Web Worker when the training engine is in this
 * build, over the swarm when the swarm is. Control actions are signed by the host
 * (HostController.signControl) before they are applied. Nothing is simulated: when a piece is
 * missing, the availability note says so.
 */
import type { ControlAction } from './authority.ts';
import type { HostController } from './host.svelte.ts';

export interface RunnerAvailability {
  ok: boolean;
  reason?: string;
  note?: string;
}

export function runnerAvailability(): RunnerAvailability {
  return {
    ok: false,
    reason:
      'Training is not available in this build yet: the model/training engine and the swarm have not landed. Jobs can be created and signed; Start unlocks when the engine is here.',
  };
}

export class HostRunner {
  readonly host: HostController;
  canGenerate = $state(false);
  canCheckpoint = $state(false);
  peersNote = 'No peers: the swarm is not available in this build yet.';
  planNote = 'No plan yet: the scheduler plans once peers join a running job.';
  generateNote = 'Text generation needs trained weights: start the job first.';
  selfId: string | null = null;

  constructor(host: HostController) {
    this.host = host;
  }

  async control(action: ControlAction): Promise<void> {
    const a = runnerAvailability();
    if (!a.ok && (action === 'start' || action === 'resume')) throw new Error(a.reason);
    await this.host.signControl(action);
  }

  async stop(_signal: boolean): Promise<void> {}

  async checkpoint(): Promise<{ bytes: Uint8Array; name: string }> {
    throw new Error('No weights to save yet.');
  }

  async generate(_prompt: string, _n: number): Promise<string> {
    throw new Error(this.generateNote);
  }

  dispose(): void {}
}
