/**
 * The web app (web/), built once and served by the relay's HTTP server, driven in headless
 * Chromium: the host dashboard's job form rejects a bad spec field by field; a job trains in
 * the host's tab and the loss chart receives falling points; a reloaded host and a reloaded
 * volunteer keep their identity and state; screenshots of both pages at desktop and phone
 * widths go to test-artifacts/web/. Every test ends without console errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openPage, type PageProblems } from '@swarmgrad/peer-core/harness';
import { type RunningHttpServer, startHttpServer } from '@swarmgrad/relay';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const artifacts = `${repo}test-artifacts/web/`;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let server: RunningHttpServer;
let browser: Browser;

interface HostSnapshot {
  peerId: string | null;
  job: { jobId: string; state: string; step: number; seq: number } | null;
  columns: { step: number[]; trainLoss: (number | null)[]; heldoutLoss: (number | null)[]; tokensPerSecond: (number | null)[] };
  events: Array<{ kind: string; text: string }>;
  lastControl: { payload: { action: string; seq: number } } | null;
}

interface VolunteerSnapshot {
  peerId: string | null;
  totals: { steps: number; tokens: number };
  session: { consented: boolean; computeLimit: number; jobId: string | null };
  bench: { backend: string; gflops: number } | null;
}

const hostState = (page: Page) => page.evaluate(() => (window as unknown as { swarmgrad: { host(): unknown } }).swarmgrad.host()) as Promise<HostSnapshot>;
const volunteerState = (page: Page) => page.evaluate(() => (window as unknown as { swarmgrad: { volunteer(): unknown } }).swarmgrad.volunteer()) as Promise<VolunteerSnapshot>;

async function open(ctx: BrowserContext, path: string): Promise<{ page: Page; problems: PageProblems }> {
  const r = await openPage(ctx, new URL(path, server.url).href);
  await r.page.waitForFunction((name) => typeof (window as unknown as { swarmgrad?: Record<string, unknown> }).swarmgrad?.[name] === 'function', path === '/' ? 'volunteer' : 'host');
  return r;
}

async function shoot(page: Page, name: string): Promise<void> {
  for (const [tag, size] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    await page.setViewportSize(size);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(300); // let charts resize
    await page.screenshot({ path: `${artifacts}${name}-${tag}.png`, fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}

beforeAll(async () => {
  execFileSync('npx', ['vite', 'build', '--config', 'vite.config.ts', '--logLevel', 'error'], { cwd: repo, stdio: 'inherit' });
  mkdirSync(artifacts, { recursive: true });
  server = await startHttpServer({ staticDir: `${repo}web/dist`, port: 0 });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('host dashboard', () => {
  it('shows field-level errors for a bad job spec and creates no job', async () => {
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const { page, problems } = await open(ctx, '/host');
    await page.getByTestId('job-model-nLayer').fill('0');
    await page.getByTestId('job-optimizer-lr').fill('');
    await page.getByTestId('create-job').click();
    await expect.poll(() => page.getByTestId('job-model-nLayer-error').textContent()).toMatch(/\S/);
    expect(await page.getByTestId('job-optimizer-lr-error').textContent()).toMatch(/\S/);
    expect(await page.getByTestId('job-model-nLayer').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('job-errors').textContent()).toMatch(/Fix 2 fields/);

    // Fix those; a cross-field rule (heads must divide the width) is reported at its field.
    await page.getByTestId('job-model-nLayer').fill('2');
    await page.getByTestId('job-optimizer-lr').fill('0.003');
    await page.getByTestId('job-model-nEmbd').fill('66');
    await page.getByTestId('create-job').click();
    await expect.poll(() => page.getByTestId('job-model-nHead-error').textContent()).toMatch(/divide/);
    expect(await page.getByTestId('job-model-nLayer-error').count()).toBe(0);
    expect((await hostState(page)).job).toBeNull();
    await shoot(page, 'host-form-errors');
    expect(problems.errors).toEqual([]);
    await ctx.close();
  });

  it('trains a signed job in the tab: the loss chart receives falling points; pause, sample, checkpoint, reload and resume', async () => {
    const ctx = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    const { page, problems } = await open(ctx, '/host');
    await page.getByTestId('create-job').click();
    await expect.poll(async () => (await hostState(page)).job?.state).toBe('created');
    await page.getByTestId('start').click();

    // Every 25 steps a held-out loss; wait for 4 of them (steps 1, 25, 50, 75).
    await page.waitForFunction(
      () => {
        const h = (window as unknown as { swarmgrad: { host(): HostSnapshot } }).swarmgrad.host();
        return h.columns.heldoutLoss.filter((x) => x !== null).length >= 4;
      },
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
    expect(h.columns.tokensPerSecond.some((x) => x !== null && x > 0)).toBe(true);
    expect(h.lastControl?.payload).toMatchObject({ action: 'start', seq: 1 });
    await shoot(page, 'host-training');

    await page.getByTestId('pause').click();
    await expect.poll(async () => (await hostState(page)).job?.state).toBe('paused');

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
    expect(header.__metadata__?.swarmgrad_job).toBe(h.job?.jobId);

    // Reload: same host identity, the job is kept (paused) with its weights, and resumes from there.
    await expect.poll(async () => (await hostState(page)).job?.step ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);
    const before = await hostState(page);
    await page.reload();
    await page.waitForFunction(() => typeof (window as unknown as { swarmgrad?: { host?: unknown } }).swarmgrad?.host === 'function');
    await expect.poll(async () => (await hostState(page)).job?.state).toBe('paused');
    const after = await hostState(page);
    expect(after.peerId).toBe(before.peerId);
    expect(after.job?.jobId).toBe(before.job?.jobId);
    await page.getByTestId('resume').click();
    await expect.poll(async () => (await hostState(page)).columns.step.length, { timeout: 60_000 }).toBeGreaterThan(2);
    const resumed = await hostState(page);
    expect(resumed.columns.step[0]).toBeGreaterThan(before.job!.step);
    expect(resumed.lastControl?.payload).toMatchObject({ action: 'resume', seq: before.job!.seq + 1 });
    await page.getByTestId('stop').click();
    await expect.poll(async () => (await hostState(page)).job?.state).toBe('stopped');
    expect(problems.errors).toEqual([]);
    await ctx.close();
  });
});

describe('volunteer page', () => {
  it('detects the device, benchmarks it, and keeps identity, consent and compute limit across a reload', async () => {
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const { page, problems } = await open(ctx, '/');
    await expect.poll(async () => (await volunteerState(page)).bench?.gflops ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
    const first = await volunteerState(page);
    expect(first.peerId).toMatch(/^12D3KooW/);
    expect(await page.getByTestId('device').textContent()).toMatch(/WebGPU|WASM/);
    await page.getByTestId('consent').check();
    await page.getByTestId('limit').fill('30');
    await expect.poll(async () => (await volunteerState(page)).session.computeLimit).toBeCloseTo(0.3);
    await shoot(page, 'volunteer');

    await page.reload();
    await page.waitForFunction(() => typeof (window as unknown as { swarmgrad?: { volunteer?: unknown } }).swarmgrad?.volunteer === 'function');
    await expect.poll(async () => (await volunteerState(page)).peerId).toBe(first.peerId);
    const again = await volunteerState(page);
    expect(again.session).toMatchObject({ consented: true, computeLimit: 0.3 });
    expect(again.totals).toMatchObject({ steps: first.totals.steps, tokens: first.totals.tokens });
    expect(await page.getByTestId('consent').isChecked()).toBe(true);
    expect(await page.getByTestId('limit').inputValue()).toBe('30');
    expect(await page.getByTestId('peer-id').textContent()).toBe(first.peerId);
    // Let the benchmark of the reloaded page finish before checking for console errors.
    await expect.poll(async () => (await volunteerState(page)).bench?.gflops ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
    expect(problems.errors).toEqual([]);
    await ctx.close();
  });
});
