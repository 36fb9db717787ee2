/**
 * The one place that launches headless Chromium for Swarmgrad: tests, benchmarks and the
 * `swarmgrad swarm` CLI all come through here. Node-only (imports playwright-core).
 *
 * What it does:
 *  - finds a Chromium binary: $CHROMIUM_PATH, then /usr/bin/chromium (Debian), then
 *    Playwright's own install if one exists; otherwise throws ChromiumNotFoundError;
 *  - applies the flags that make a GPU-less CI machine useful: WebGPU through SwiftShader
 *    (CPU WebGPU: slow, but the real WGSL compiler and validation) and WebRTC between pages
 *    with plain-IP host candidates (no mDNS obfuscation);
 *  - turns page console errors and uncaught exceptions into a list callers can assert on.
 *
 * What it is not: a page server (see pages.ts) or a swarm driver (see the swarm harness).
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { ChromiumNotFoundError } from './errors.ts';

/** Flags that keep Chromium quiet on a machine with no internet. */
export const BASE_CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-default-apps',
];

/** WebGPU on a machine without a GPU: SwiftShader's Vulkan implementation. */
export const SWIFTSHADER_WEBGPU_ARGS: readonly string[] = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
];

/** WebRTC between pages: report real host IPs instead of `<uuid>.local` mDNS names. */
export const WEBRTC_ARGS: readonly string[] = ['--disable-features=WebRtcHideLocalIpsWithMdns'];

export interface LaunchInit {
  /** Use SwiftShader WebGPU (default true). Set false on a machine with a real GPU. */
  swiftshader?: boolean;
  /** Extra Chromium flags. */
  args?: string[];
  /** Headless (default true). */
  headless?: boolean;
}

/** Candidate binaries, in the order they are tried. */
export function chromiumCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env.CHROMIUM_PATH) out.push(env.CHROMIUM_PATH);
  out.push('/usr/bin/chromium', '/usr/bin/chromium-browser');
  try {
    out.push(chromium.executablePath());
  } catch {
    // Playwright has no browser of its own installed: nothing to add.
  }
  return out;
}

/** Path of the Chromium binary to use; throws ChromiumNotFoundError with install advice. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const tried = chromiumCandidates(env);
  if (env.CHROMIUM_PATH && !existsSync(env.CHROMIUM_PATH)) throw new ChromiumNotFoundError([env.CHROMIUM_PATH]);
  const found = tried.find((p) => p && existsSync(p));
  if (!found) throw new ChromiumNotFoundError(tried);
  return found;
}

export function chromiumArgs(init: LaunchInit = {}): string[] {
  const args = [...BASE_CHROMIUM_ARGS];
  if (init.swiftshader ?? true) args.push(...SWIFTSHADER_WEBGPU_ARGS);
  args.push(...WEBRTC_ARGS, ...(init.args ?? []));
  return mergeFeatureFlags(args);
}

/** Chromium honours only the last --enable-features/--disable-features flag: merge them. */
function mergeFeatureFlags(args: string[]): string[] {
  const merged: Record<string, string[]> = { '--enable-features': [], '--disable-features': [] };
  const rest: string[] = [];
  for (const a of args) {
    const [k, v] = a.split('=', 2) as [string, string | undefined];
    if (k in merged && v) merged[k]!.push(...v.split(','));
    else rest.push(a);
  }
  for (const [k, vs] of Object.entries(merged)) if (vs.length) rest.push(`${k}=${[...new Set(vs)].join(',')}`);
  return rest;
}

export async function launchBrowser(init: LaunchInit = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: init.headless ?? true,
    args: chromiumArgs(init),
  });
}

/** Console errors and uncaught exceptions of a page, collected for assertions. */
export interface PageProblems {
  errors: string[];
}

/** Open a page that records console errors and page errors into the returned list. */
export async function openPage(target: Browser | BrowserContext, url?: string): Promise<{ page: Page; problems: PageProblems }> {
  const page = await target.newPage();
  const problems: PageProblems = { errors: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.errors.push(`pageerror: ${err.message}`));
  if (url) await page.goto(url);
  return { page, problems };
}
