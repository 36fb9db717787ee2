/**
 * `npm start` smoke test: `scripts/start.ts --exit-after-ready --port 0 --peers 2` starts the
 * relay, publishes the demo job, launches 2 headless browser peers that train it, sees a training
 * step in which a peer mixed with a neighbour, and exits 0; again with relayed links forced (the
 * fallback where direct WebRTC links are unavailable). Runs in the test/netns/run.sh namespace.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const inNetns = process.env.SWARMGRAD_NETNS === '1';

function start(...extra: string[]) {
  const r = spawnSync('npx', ['tsx', 'scripts/start.ts', '--exit-after-ready', '--port', '0', '--peers', '2', '--no-build', ...extra], { encoding: 'utf8', timeout: 150_000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe.skipIf(!inNetns)('npm start (needs the test/netns/run.sh namespace: run `npm run test:e2e`)', () => {
  it('starts the relay and a 2-peer demo swarm that reports a mixed training step, then stops cleanly', () => {
    const { code, out } = start();
    expect(out).toMatch(/host dashboard: {2}http:\/\/localhost:\d+\/host/);
    expect(out).toMatch(/demo swarm: job \S+, direct links/);
    expect(out).toMatch(/neighbours mixed [1-9]|neighbours mixed \d+\/[1-9]/);
    expect(out).toContain('demo swarm: ready');
    expect(code).toBe(0);
  }, 160_000);

  it('falls back to relayed links when asked (--relayed) and still trains', () => {
    const { code, out } = start('--relayed');
    expect(out).toMatch(/demo swarm: job \S+, relayed links/);
    expect(out).toMatch(/neighbours mixed [1-9]|neighbours mixed \d+\/[1-9]/);
    // No direct WebRTC connection at all: the gossip went through the relay.
    expect(out).toMatch(/direct links 0\/0/);
    expect(code).toBe(0);
  }, 160_000);
});
