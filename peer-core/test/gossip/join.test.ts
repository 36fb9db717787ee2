/** Joining: a new peer pulls the current model from a neighbour before it contributes. */
import { describe, expect, it } from 'vitest';
import { ModelPullError, ModelServer, pullModel } from '../../src/gossip/index.ts';
import { randomNormal } from '../../src/util/random.ts';
import { makeSwarm } from './helpers.ts';

describe('model pull', () => {
  it('a joining peer gets the exact current parameters from a neighbour', async () => {
    const s = makeSwarm(2, { latencyMs: 20 });
    const x = randomNormal(257, 1);
    const server = new ModelServer({ transport: s.transports[0], current: () => x });
    server.start();
    const late = s.net.join('late');
    const got = await s.clock.run(pullModel(late, 'p00', { timeoutMs: 500 }));
    expect(Array.from(got)).toEqual(Array.from(x));
    expect(server.served).toBe(1);
    expect(late.ledger.total({ dir: 'received', kind: 'model' }).messages).toBe(1);
    server.stop();
  });

  it('no answer -> ModelPullError after the timeout', async () => {
    const s = makeSwarm(2);
    await expect(s.clock.run(pullModel(s.transports[1], 'p00', { timeoutMs: 300 }))).rejects.toThrow(ModelPullError);
    expect(s.clock.now()).toBe(300);
  });
});
