/**
 * The web app on a real swarm, inside the e2e layer's hermetic network namespace
 * (test/netns/run.sh: the pages reach each other over WebRTC on a private interface): a relay
 * serves the built app; the host creates and starts a signed job; 3 volunteer pages contribute
 * over the swarm and average their models with each other (AD-PSGD, int8, direct WebRTC); the
 * loss chart receives falling points and the volunteers report falling losses; a reloaded
 * volunteer resumes its identity, totals and job; volunteers pause, resume and leave; the
 * host's signed pause reaches them; the host samples text, downloads a checkpoint, reloads and
 * resumes. Screenshots go to test-artifacts/web/. No page ends with console errors.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, DESKTOP, type HostSnapshot, hostState, open, type PageProblems, shoot, startApp, volunteerState } from './helpers.ts';

const VOLUNTEERS = 3;
let app: App;

beforeAll(async () => {
  app = await startApp();
});

afterAll(async () => {
  await app?.close();
});

describe('host and volunteers on the swarm', () => {
  it('host starts a signed job, 3 volunteers join over the swarm, losses fall; a reloaded volunteer resumes; volunteer pause/resume/leave; host pause reaches volunteers; sample, checkpoint, host reload and resume', async () => {
    const hostCtx = await app.browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    const { page, problems } = await open(app, hostCtx, '/host');
    await expect.poll(async () => (await hostState(page)).swarm, { timeout: 60_000 }).toBe('connected');
    await page.getByTestId('create-job').click();
    await expect.poll(async () => (await hostState(page)).job?.state, { timeout: 30_000 }).toBe('created');
    await page.getByTestId('start').click();

    // Three volunteers consent and contribute.
    const vols: Array<{ ctx: BrowserContext; page: Page; problems: PageProblems }> = [];
    for (let i = 0; i < VOLUNTEERS; i++) {
      const ctx = await app.browser.newContext({ viewport: DESKTOP });
      const v = await open(app, ctx, '/');
      if (i === 0) {
        await expect.poll(async () => (await volunteerState(v.page)).bench?.gflops ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
        await shoot(v.page, 'volunteer');
      }
      await v.page.getByTestId('consent').check();
      await v.page.getByTestId('limit').fill('30'); // 4 training tabs share this machine
      await expect.poll(() => v.page.getByTestId('contribute').isEnabled(), { timeout: 60_000 }).toBe(true);
      await v.page.getByTestId('contribute').click();
      vols.push({ ctx, ...v });
    }
    const jobId = (await hostState(page)).job!.jobId;
    // Each volunteer checked its device and benchmarked it.
    for (const v of vols) {
      await expect.poll(async () => (await volunteerState(v.page)).bench?.gflops ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
      expect(await v.page.getByTestId('device').textContent()).toMatch(/WebGPU|WASM/);
    }

    // The host sees every volunteer training its job, with its own loss falling below ln(256).
    await expect
      .poll(
        async () => {
          const h = await hostState(page);
          return h.peers.filter((p) => p.id !== 'this-tab' && p.state === 'training' && (p.loss ?? 99) < 5).length;
        },
        { timeout: 150_000, interval: 1000 },
      )
      .toBe(VOLUNTEERS);
    for (const v of vols) expect((await volunteerState(v.page)).status).toMatchObject({ state: 'training', jobId });

    // The volunteers average their models with each other (AD-PSGD over direct WebRTC, int8),
    // and the host charts their traffic and compression.
    await expect
      .poll(async () => {
        let n = 0;
        for (const v of vols) if (((await volunteerState(v.page)).status?.averaging?.mixed ?? 0) > 0) n++;
        return n;
      }, { timeout: 90_000, interval: 1000 })
      .toBeGreaterThanOrEqual(2);
    const avg = (await volunteerState(vols[0]!.page)).status?.averaging;
    expect(avg?.algorithm).toMatch(/AD-PSGD, int8/);
    await expect.poll(async () => Number(await page.getByTestId('chart-ratio').getAttribute('data-points')), { timeout: 30_000 }).toBeGreaterThan(0);
    const ratios = (await hostState(page)).columns.compressionRatio.filter((x): x is number => x !== null);
    // int8 with per-block scales: a bit under 4× smaller than fp32.
    expect(ratios.at(-1)!).toBeGreaterThan(3);
    expect(ratios.at(-1)!).toBeLessThan(4);
    expect(Number(await page.getByTestId('chart-bytes').getAttribute('data-points'))).toBeGreaterThan(0);

    // The loss chart: held-out loss at step 1 and every 25 steps; falling from ~ln(256).
    await page.waitForFunction(
      () => (window as unknown as { swarmgrad: { host(): HostSnapshot } }).swarmgrad.host().columns.heldoutLoss.filter((x) => x !== null).length >= 3,
      null,
      { timeout: 120_000, polling: 500 },
    );
    const h = await hostState(page);
    const train = h.columns.trainLoss.filter((x): x is number => x !== null);
    const held = h.columns.heldoutLoss.filter((x): x is number => x !== null);
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    expect(held[0]).toBeGreaterThan(5);
    expect(held.at(-1)!).toBeLessThan(held[0]! - 1);
    expect(mean(train.slice(-10))).toBeLessThan(mean(train.slice(0, 5)) - 1);
    expect(Number(await page.getByTestId('chart-loss').getAttribute('data-points'))).toBeGreaterThan(10);
    expect(h.columns.tokensPerSecond.some((x) => x !== null && x > 0)).toBe(true);
    expect(h.lastControl?.payload).toMatchObject({ action: 'start', seq: 1 });
    expect(h.peers.filter((p) => p.id !== 'this-tab').every((p) => p.backend === 'wasm')).toBe(true);
    await shoot(page, 'host-swarm');
    await shoot(vols[0]!.page, 'volunteer-contributing');

    // A volunteer reloaded mid-job keeps its identity and totals and resumes the job.
    const v0 = vols[0]!;
    await v0.page.getByTestId('limit').fill('60');
    await expect.poll(async () => (await volunteerState(v0.page)).totals.steps, { timeout: 30_000 }).toBeGreaterThan(0);
    await v0.page.waitForTimeout(6000); // its weights are saved every 5 s
    const before = await volunteerState(v0.page);
    await v0.page.reload();
    await v0.page.waitForFunction(() => typeof (window as unknown as { swarmgrad?: { volunteer?: unknown } }).swarmgrad?.volunteer === 'function');
    await expect.poll(async () => (await volunteerState(v0.page)).status?.state, { timeout: 60_000 }).toBe('training');
    const after = await volunteerState(v0.page);
    expect(after.peerId).toBe(before.peerId);
    expect(after.status?.jobId).toBe(jobId);
    expect(after.session).toMatchObject({ consented: true, computeLimit: 0.6, jobId });
    expect(after.totals.steps).toBeGreaterThanOrEqual(before.totals.steps);
    // It continues from its saved weights, not from step 0.
    expect(after.status!.steps).toBeGreaterThan(0);
    await expect.poll(async () => (await volunteerState(v0.page)).status!.steps, { timeout: 30_000 }).toBeGreaterThan(after.status!.steps);

    // A volunteer pauses and resumes on its own; another leaves (and no longer resumes the job).
    const [, v1, v2] = vols;
    await v1!.page.getByTestId('pause').click();
    await expect.poll(async () => (await volunteerState(v1!.page)).status?.state, { timeout: 30_000 }).toBe('paused');
    await v1!.page.waitForTimeout(1000); // a step already running finishes
    const pausedAt = (await volunteerState(v1!.page)).status!.steps;
    await v1!.page.waitForTimeout(1500);
    expect((await volunteerState(v1!.page)).status!.steps).toBe(pausedAt);
    await v1!.page.getByTestId('pause').click(); // now labelled Resume
    await expect.poll(async () => (await volunteerState(v1!.page)).status?.steps, { timeout: 30_000 }).toBeGreaterThan(pausedAt);
    await v2!.page.getByTestId('leave').click();
    await expect.poll(async () => (await volunteerState(v2!.page)).session.jobId, { timeout: 30_000 }).toBeNull();
    expect(await v2!.page.getByTestId('contribute').isVisible()).toBe(true);

    // The host's signed pause reaches every volunteer still in the job.
    await page.getByTestId('pause').click();
    await expect.poll(async () => (await hostState(page)).job?.state, { timeout: 30_000 }).toBe('paused');
    for (const v of [v0, v1!]) await expect.poll(async () => (await volunteerState(v.page)).status?.state, { timeout: 30_000 }).toBe('paused');
    for (const v of vols) expect(v.problems.errors).toEqual([]);

    await page.getByTestId('generate').click();
    await expect.poll(() => page.getByTestId('sample').textContent(), { timeout: 30_000 }).toMatch(/Call me.+/s);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('checkpoint').click()]);
    expect(download.suggestedFilename()).toMatch(/-step\d+\.safetensors$/);
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
    expect(header['wte.weight']?.shape).toEqual([256, 64]);
    expect(header.__metadata__?.swarmgrad_job).toBe(jobId);

    // Host reload: same identity, the job is kept (paused) with its weights, and resumes from there.
    for (const v of vols) await v.ctx.close();
    await expect.poll(async () => (await hostState(page)).job?.step ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);
    const hostBefore = await hostState(page);
    await page.reload();
    await page.waitForFunction(() => typeof (window as unknown as { swarmgrad?: { host?: unknown } }).swarmgrad?.host === 'function');
    await expect.poll(async () => (await hostState(page)).job?.state, { timeout: 30_000 }).toBe('paused');
    const hostAfter = await hostState(page);
    expect(hostAfter.peerId).toBe(hostBefore.peerId);
    expect(hostAfter.job?.jobId).toBe(jobId);
    await expect.poll(async () => (await hostState(page)).swarm, { timeout: 60_000 }).toBe('connected');
    await page.getByTestId('resume').click();
    await expect.poll(async () => (await hostState(page)).columns.step.length, { timeout: 60_000 }).toBeGreaterThan(2);
    const resumed = await hostState(page);
    expect(resumed.columns.step[0]).toBeGreaterThan(hostBefore.job!.step);
    expect(resumed.lastControl?.payload).toMatchObject({ action: 'resume', seq: hostBefore.job!.seq + 1 });

    await page.getByTestId('stop').click();
    await expect.poll(async () => (await hostState(page)).job?.state, { timeout: 30_000 }).toBe('stopped');
    // (Whether volunteers hear the reloaded host depends on SwarmNode re-forming its direct
    // connections; the signed pause above already showed control reaching every volunteer.)

    expect(problems.errors).toEqual([]);
    await hostCtx.close();
  });
});
