/**
 * Shared by the web app's browser tests (web.test.ts, browser layer) and its swarm test
 * (swarm.e2e.test.ts, e2e layer, inside the hermetic network namespace): build the app once,
 * serve it from a real relay, read the pages' state, take screenshots.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openPage, type PageProblems } from '@swarmgrad/peer-core/harness';
import { type RunningRelay, startRelay } from '@swarmgrad/relay';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const repo = fileURLToPath(new URL('../../../', import.meta.url));
export const artifacts = `${repo}test-artifacts/web/`;
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };


export interface HostSnapshot {
  peerId: string | null;
  swarm: string;
  peers: Array<{ id: string; state: string; step: number | null; loss: number | null; backend: string }>;
  job: { jobId: string; state: string; step: number; seq: number } | null;
  columns: { step: number[]; trainLoss: (number | null)[]; heldoutLoss: (number | null)[]; tokensPerSecond: (number | null)[]; compressionRatio: (number | null)[] };
  events: Array<{ kind: string; text: string }>;
  lastControl: { payload: { action: string; seq: number } } | null;
}

export interface VolunteerSnapshot {
  peerId: string | null;
  totals: { steps: number; tokens: number };
  session: { consented: boolean; computeLimit: number; jobId: string | null };
  status: { state: string; jobId: string | null; steps: number; loss: number | null; peers: number | null; averaging: { algorithm: string; mixed: number } | null } | null;
  bench: { backend: string; gflops: number } | null;
}

export const hostState = (page: Page) => page.evaluate(() => (window as unknown as { swarmgrad: { host(): unknown } }).swarmgrad.host()) as Promise<HostSnapshot>;
export const volunteerState = (page: Page) => page.evaluate(() => (window as unknown as { swarmgrad: { volunteer(): unknown } }).swarmgrad.volunteer()) as Promise<VolunteerSnapshot>;

export async function open(app: App, ctx: BrowserContext, path: string): Promise<{ page: Page; problems: PageProblems }> {
  const r = await openPage(ctx, new URL(path, app.base).href);
  await r.page.waitForFunction((name) => typeof (window as unknown as { swarmgrad?: Record<string, unknown> }).swarmgrad?.[name] === 'function', path === '/' ? 'volunteer' : 'host');
  return r;
}

export async function shoot(page: Page, name: string): Promise<void> {
  for (const [tag, size] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    await page.setViewportSize(size);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(300); // let charts resize
    await page.screenshot({ path: `${artifacts}${name}-${tag}.png`, fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}

export interface App {
  relay: RunningRelay;
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Build web/ (once per test file), serve it from a fresh relay, launch Chromium. */
export async function startApp(): Promise<App> {
  execFileSync('npx', ['vite', 'build', '--config', 'vite.config.ts', '--logLevel', 'error'], { cwd: repo, stdio: 'inherit' });
  mkdirSync(artifacts, { recursive: true });
  const relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: mkdtempSync(join(tmpdir(), 'swarmgrad-web-relay-')), webDir: `${repo}web/dist` });
  const browser = await launchBrowser();
  return {
    relay,
    base: relay.http.url,
    browser,
    async close() {
      await browser.close();
      await relay.stop();
    },
  };
}

export type { PageProblems };
