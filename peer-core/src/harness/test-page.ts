/**
 * openTestPage: the setup every browser test shares — serve a folder of pages from
 * localhost, launch Chromium through the shared launcher, open the page with console-error
 * collection, and wait until the page has published its test API on `window[readyGlobal]`.
 * Node-only.
 */
import type { Browser, Page } from 'playwright-core';
import { type LaunchInit, launchBrowser, openPage, type PageProblems } from './browser.ts';
import { type ServedPages, servePages } from './pages.ts';

export interface TestPage {
  page: Page;
  problems: PageProblems;
  browser: Browser;
  server: ServedPages;
  close(): Promise<void>;
}

export interface TestPageInit extends LaunchInit {
  /** How long the page may take to publish its API (default 60 s: SwiftShader is slow). */
  readyTimeoutMs?: number;
  /** Page to open, relative to the served folder (default: its index.html). */
  path?: string;
}

export async function openTestPage(pagesDir: string, readyGlobal: string, init: TestPageInit = {}): Promise<TestPage> {
  const server = await servePages(pagesDir);
  let browser: Browser | undefined;
  try {
    browser = await launchBrowser(init);
    const { page, problems } = await openPage(browser, `${server.url}${init.path ?? ''}`);
    await page.waitForFunction((g) => g in window, readyGlobal, { timeout: init.readyTimeoutMs ?? 60_000 });
    const b = browser;
    return {
      page,
      problems,
      browser: b,
      server,
      async close() {
        await b.close();
        await server.close();
      },
    };
  } catch (e) {
    await browser?.close();
    await server.close();
    throw e;
  }
}
