/**
 * First end-to-end proof of the GPU stack: the WGSL matmul runs in headless Chromium on
 * WebGPU (SwiftShader on GPU-less machines) and matches the CPU reference on fresh random
 * inputs of awkward sizes (not multiples of the 16×16 tile), in every transpose variant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import { launchBrowser, openPage, type PageProblems, servePages, type ServedPages } from '@swarmgrad/peer-core/harness';
import { freshSeed } from '@swarmgrad/peer-core/reference';

let server: ServedPages;
let browser: Browser;
let page: Page;
let problems: PageProblems;

beforeAll(async () => {
  server = await servePages(fileURLToPath(new URL('./pages/', import.meta.url)));
  browser = await launchBrowser();
  ({ page, problems } = await openPage(browser, server.url));
  await page.waitForFunction(() => 'swarmgradTest' in window, null, { timeout: 60_000 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('matmul.wgsl on WebGPU vs CPU reference', () => {
  it('has a WebGPU adapter', async () => {
    const info = await page.evaluate(() => window.swarmgradTest.adapterInfo());
    expect(info).toBeTruthy();
  });

  const cases = [
    { M: 37, K: 53, N: 29, opts: {} },
    { M: 67, K: 129, N: 45, opts: { bias: true } },
    { M: 33, K: 17, N: 70, opts: { transA: true } },
    { M: 50, K: 31, N: 19, opts: { transB: true, bias: true } },
    { M: 21, K: 40, N: 35, opts: { transA: true, transB: true, accumulate: true } },
  ];
  for (const { M, K, N, opts } of cases) {
    it(`${M}x${K}x${N} ${JSON.stringify(opts)}`, async () => {
      const seed = freshSeed();
      const r = await page.evaluate(([s, m, k, n, o]) => window.swarmgradTest.matmul(s, m, k, n, o), [seed, M, K, N, opts] as const);
      expect(r.ok, `seed ${seed}: ${r.message}`).toBe(true);
    });
  }

  it('rejects a too-small buffer with a named error before any GPU work', async () => {
    const msg = await page.evaluate(() => window.swarmgradTest.matmulBadShape());
    expect(msg).toMatch(/^KernelInputError: matmul: buffer a holds 2 floats, needs 16/);
  });

  it('leaves no console errors', () => {
    expect(problems.errors).toEqual([]);
  });
});
