/**
 * The web app (web/), built once and served by a real relay, in headless Chromium (browser
 * layer; the swarm scenario is swarm.e2e.test.ts in the e2e layer):
 *  - the host dashboard's job form rejects a bad spec field by field and creates no job;
 *  - the volunteer page detects the device, benchmarks it, and keeps its identity, consent and
 *    compute limit across a reload;
 *  - the host trains a job in its own tab and the loss chart receives falling points.
 * Screenshots of both pages at desktop and phone widths go to test-artifacts/web/. No page
 * ends with console errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, DESKTOP, type HostSnapshot, hostState, open, shoot, startApp, volunteerState } from './helpers.ts';

let app: App;

beforeAll(async () => {
  app = await startApp();
});

afterAll(async () => {
  await app?.close();
});

describe('host dashboard', () => {
  it('shows field-level errors for a bad job spec and creates no job', async () => {
    const ctx = await app.browser.newContext({ viewport: DESKTOP });
    const { page, problems } = await open(app, ctx, '/host');
    await page.getByTestId('job-model-nLayer').fill('0');
    await page.getByTestId('job-optimizer-lr').fill('');
    await page.getByTestId('create-job').click();
    await expect.poll(() => page.getByTestId('job-model-nLayer-error').textContent(), { timeout: 30_000 }).toMatch(/\S/);
    expect(await page.getByTestId('job-optimizer-lr-error').textContent()).toMatch(/\S/);
    expect(await page.getByTestId('job-model-nLayer').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('job-errors').textContent()).toMatch(/Fix 2 fields/);

    // Fix those; a cross-field rule (heads must divide the width) is reported at its field.
    await page.getByTestId('job-model-nLayer').fill('2');
    await page.getByTestId('job-optimizer-lr').fill('0.003');
    await page.getByTestId('job-model-nEmbd').fill('66');
    await page.getByTestId('create-job').click();
    await expect.poll(() => page.getByTestId('job-model-nHead-error').textContent(), { timeout: 30_000 }).toMatch(/divide/);
    expect(await page.getByTestId('job-model-nLayer-error').count()).toBe(0);
    expect((await hostState(page)).job).toBeNull();
    await shoot(page, 'host-form-errors');
    expect(problems.errors).toEqual([]);
    await ctx.close();
  });

  it('trains a job in the tab: the loss chart receives falling points', async () => {
    const ctx = await app.browser.newContext({ viewport: DESKTOP });
    const { page, problems } = await open(app, ctx, '/host');
    await page.getByTestId('create-job').click();
    await expect.poll(async () => (await hostState(page)).job?.state, { timeout: 30_000 }).toBe('created');
    await page.getByTestId('start').click();
    await page.waitForFunction(
      () => (window as unknown as { swarmgrad: { host(): HostSnapshot } }).swarmgrad.host().columns.heldoutLoss.filter((x) => x !== null).length >= 3,
      null,
      { timeout: 120_000, polling: 500 },
    );
    const h = await hostState(page);
    const train = h.columns.trainLoss.filter((x): x is number => x !== null);
    const held = h.columns.heldoutLoss.filter((x): x is number => x !== null);
    const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
    // Byte-level GPT: starts near ln(256) = 5.55 nats and must fall well below it.
    expect(held[0]).toBeGreaterThan(5);
    expect(held.at(-1)!).toBeLessThan(held[0]! - 1);
    expect(mean(train.slice(-10))).toBeLessThan(mean(train.slice(0, 5)) - 1);
    expect(Number(await page.getByTestId('chart-loss').getAttribute('data-points'))).toBeGreaterThan(10);
    await shoot(page, 'host-training');
    await page.getByTestId('stop').click();
    await expect.poll(async () => (await hostState(page)).job?.state, { timeout: 30_000 }).toBe('stopped');
    expect(problems.errors).toEqual([]);
    await ctx.close();
  });
});

describe('volunteer page', () => {
  it('detects the device, benchmarks it, and keeps identity, consent and compute limit across a reload', async () => {
    const ctx = await app.browser.newContext({ viewport: DESKTOP });
    const { page, problems } = await open(app, ctx, '/');
    await expect.poll(async () => (await volunteerState(page)).bench?.gflops ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
    const first = await volunteerState(page);
    expect(first.peerId).toMatch(/^12D3KooW/);
    expect(await page.getByTestId('device').textContent()).toMatch(/WebGPU|WASM/);
    await page.getByTestId('consent').check();
    await page.getByTestId('limit').fill('30');
    await expect.poll(async () => (await volunteerState(page)).session.computeLimit, { timeout: 30_000 }).toBeCloseTo(0.3);
    await shoot(page, 'volunteer');

    await page.reload();
    await page.waitForFunction(() => typeof (window as unknown as { swarmgrad?: { volunteer?: unknown } }).swarmgrad?.volunteer === 'function');
    await expect.poll(async () => (await volunteerState(page)).peerId, { timeout: 30_000 }).toBe(first.peerId);
    const again = await volunteerState(page);
    expect(again.session).toMatchObject({ consented: true, computeLimit: 0.3 });
    expect(again.totals).toMatchObject({ steps: first.totals.steps, tokens: first.totals.tokens });
    expect(await page.getByTestId('consent').isChecked()).toBe(true);
    expect(await page.getByTestId('limit').inputValue()).toBe('30');
    expect(await page.getByTestId('peer-id').textContent()).toBe(first.peerId);
    // Let the reloaded page's benchmark finish before checking for console errors.
    await expect.poll(async () => (await volunteerState(page)).bench?.gflops ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
    expect(problems.errors).toEqual([]);
    await ctx.close();
  });
});
