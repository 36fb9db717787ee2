/**
 * Swarm harness (Node-only): `launchSwarm({ relay, peers: N })` opens N headless Chromium
 * volunteers, one BrowserContext + page each, loads a peer page into them, starts a SwarmNode
 * in every page against the relay, and returns handles to drive and inspect them. Used by the
 * e2e tests, the `net` benchmark and `swarmgrad swarm`.
 *
 * The peer page is bundled with esbuild (libp2p and simple-peer are many small ESM/CJS
 * modules that a dev server would serve one by one) into a temporary folder served from
 * http://localhost (a secure context). A page implements SwarmPeerPageApi on
 * `window.swarmgradPeer`; `test/e2e/pages/peer.page.ts` is the default page.
 *
 * Chromium gathers no WebRTC candidates on loopback: run peer-to-peer swarms inside the
 * hermetic namespace of `test/netns/run.sh` (the e2e layer does), or on a machine with a LAN.
 *
 * What it is not: a relay (start one with @swarmgrad/relay) or a test.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type LaunchInit, launchBrowser, openPage, type PageProblems } from './browser.ts';
import { PageScriptError } from './errors.ts';

/** Options a page's start() receives (a JSON-safe subset of SwarmNodeInit). */
export interface SwarmPeerStartOptions {
  relay: string[];
  capabilities?: Record<string, string | number | boolean>;
  [k: string]: unknown;
}

/** What a peer page exposes on `window.swarmgradPeer` (the harness only needs start/info/stop). */
export interface SwarmPeerPageApi {
  start(opts: SwarmPeerStartOptions): Promise<{ peerId: string; timings: Record<string, number> }>;
  info(): { peerId: string; direct: string[]; members: string[]; [k: string]: unknown };
  stop(): Promise<void>;
  [k: string]: unknown;
}

export interface LaunchSwarmInit {
  /** The relay: its HTTP URL (multiaddrs come from /api/relay) or a libp2p multiaddr. */
  relay: string;
  /** Number of browser peers. */
  peers: number;
  /** Entry (.ts) of the peer page to bundle; default test/e2e/pages/peer.page.ts. */
  page?: string;
  /** Bundle `page` with process/Buffer shims (pages that use simple-peer). */
  nodeShims?: boolean;
  /** Worker scripts bundled and served next to `page`: file name (e.g. 'compute.worker.js') → entry
   *  (.ts). A page starts one with `new Worker('./compute.worker.js', { type: 'module' })`. */
  workers?: Record<string, string>;
  /** Or an already served page URL implementing SwarmPeerPageApi (then `page` is ignored). */
  url?: string;
  /** Extra options passed to every page's start(). */
  start?: Record<string, unknown>;
  /** Reuse a browser (not closed by close()); default: launch one. */
  browser?: Browser;
  launch?: LaunchInit;
  /** Load pages, then start peers, this many at a time (CPU-bound machines); default all at once. */
  startConcurrency?: number;
  /**
   * Load every page before starting any peer's SwarmNode (default true). On one machine a page
   * that is still loading (a renderer process starting, the bundle parsed and compiled) takes
   * the CPU that the started pages' dials need: in the 8-page mesh, dials that overlapped page
   * loads took 1-2.8 s and the ones after 0.2-0.6 s (docs/NETWORK.md, "Session 7"). Volunteers
   * on separate machines do not share that CPU. `false`: load and start each page in turn.
   */
  loadBeforeStart?: boolean;
}

export interface SwarmPeer {
  index: number;
  peerId: string;
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
  timings: Record<string, number>;
  /** Call a method of the page's `window.swarmgradPeer` with JSON-safe arguments. */
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
  info(): Promise<ReturnType<SwarmPeerPageApi['info']>>;
  close(): Promise<void>;
}

export interface RunningSwarm {
  peers: SwarmPeer[];
  browser: Browser;
  /** URL of the served peer page. */
  url: string;
  relayAddrs: string[];
  /** Resolve when every live peer has a direct connection to every other live peer. */
  waitForMesh(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULT_PEER_PAGE = join(repoRoot, 'test/e2e/pages/peer.page.ts');
/** The PeerRuntime's compute worker (WorkerCompute), under the name training pages load it by. */
export const COMPUTE_WORKER = { 'compute.worker.js': join(repoRoot, 'peer-core/src/runtime/compute.worker.ts') };
/** Node globals simple-peer 9 (readable-stream 3, randombytes) expects in the browser. */
const NODE_SHIMS = `import process from 'process/browser.js';
import { Buffer } from 'buffer';
globalThis.process ??= process;
globalThis.Buffer ??= Buffer;
export { process, Buffer };
`;

/** Resolve a relay given as HTTP URL or multiaddr into dialable multiaddrs. */
export async function resolveRelay(relay: string): Promise<string[]> {
  if (relay.startsWith('/')) return [relay];
  const r = await fetch(new URL('/api/relay', relay));
  if (!r.ok) throw new Error(`GET ${relay}api/relay: HTTP ${r.status}`);
  const j = (await r.json()) as { multiaddrs: string[] };
  const ws = j.multiaddrs.filter((a) => a.includes('/ws'));
  if (!ws.length) throw new Error(`relay at ${relay} has no WebSockets address: ${j.multiaddrs.join(', ')}`);
  return ws;
}

export interface ServedBundle {
  url: string;
  close(): Promise<void>;
}

/**
 * Bundle a page entry with esbuild (browser ESM; `nodeShims` adds process/Buffer globals for
 * simple-peer) and serve it with an index.html from an ephemeral localhost port, plus any
 * `workers` (served name → entry), each bundled on its own.
 */
export async function serveBundledPage(entry: string, opts: { nodeShims?: boolean; title?: string; workers?: Record<string, string> } = {}): Promise<ServedBundle> {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'sg-peer-page-'));
  const shims = join(dir, 'node-shims.js');
  if (opts.nodeShims) writeFileSync(shims, NODE_SHIMS);
  const common: import('esbuild').BuildOptions = {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    nodePaths: [join(repoRoot, 'node_modules'), join(repoRoot, 'peer-core/node_modules')],
    define: { global: 'globalThis' },
    logLevel: 'error',
    // WGSL kernels (gpu-shaders/) import as text, as in the Vite build.
    loader: { '.wgsl': 'text' },
  };
  const workers = Object.entries(opts.workers ?? {});
  for (const [name] of workers) {
    if (!/^[\w.-]+\.js$/.test(name) || name === 'peer.js') throw new Error(`worker name ${JSON.stringify(name)}: expected a plain file name ending in .js, not peer.js`);
  }
  await Promise.all([
    build({ ...common, entryPoints: [entry], outfile: join(dir, 'peer.js'), inject: opts.nodeShims ? [shims] : [] }),
    ...workers.map(([name, src]) => build({ ...common, entryPoints: [src], outfile: join(dir, name) })),
  ]);
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${opts.title ?? 'Swarmgrad peer'}</title></head><body><script type="module" src="./peer.js"></script></body></html>`,
  );
  const files: Record<string, [string, string]> = {
    '/': ['index.html', 'text/html'],
    '/index.html': ['index.html', 'text/html'],
    '/peer.js': ['peer.js', 'text/javascript'],
  };
  for (const [name] of workers) files[`/${name}`] = [name, 'text/javascript'];
  const server: Server = createServer((req, res) => {
    const f = files[(req.url ?? '/').split('?')[0]!];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[1], 'cache-control': 'no-store' });
    res.end(readFileSync(join(dir, f[0])));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('page server has no TCP address');
  return {
    url: `http://localhost:${addr.port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
      for (let it = queue.shift(); it !== undefined; it = queue.shift()) await fn(it);
    }),
  );
}

/** A loaded volunteer page whose SwarmNode has not started yet. */
interface LoadedPage {
  index: number;
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T>;
}

/** Open one more volunteer page (its own BrowserContext) and wait for its `swarmgradPeer` API. */
async function loadPeerPage(browser: Browser, url: string, index: number): Promise<LoadedPage> {
  const context = await browser.newContext();
  // Loading the 2 MB bundle into the Nth page of a starved 2-core machine can pass Playwright's 30 s.
  context.setDefaultNavigationTimeout(120_000);
  const { page, problems } = await openPage(context, url);
  page.on('crash', () => problems.errors.push(`pageerror: renderer of peer ${index} crashed`));
  await page.waitForFunction(() => 'swarmgradPeer' in window, null, { timeout: 60_000 });
  const call = async <T>(method: string, ...args: unknown[]): Promise<T> => {
    try {
      return (await page.evaluate(
        ([m, a]) => {
          const api = (window as unknown as { swarmgradPeer: Record<string, (...x: unknown[]) => unknown> }).swarmgradPeer;
          const f = api[m as string];
          if (typeof f !== 'function') throw new Error(`swarmgradPeer.${m} is not a function`);
          return f(...(a as unknown[]));
        },
        [method, args] as const,
      )) as T;
    } catch (e) {
      throw new PageScriptError(`peer ${index} ${method}: ${(e as Error).message}`);
    }
  };
  return { index, context, page, problems, call };
}

/** Start a loaded page's SwarmNode. */
async function startPeer(loaded: LoadedPage, startOpts: SwarmPeerStartOptions): Promise<SwarmPeer> {
  const { index, context, page, problems, call } = loaded;
  // One retry: on a starved machine the relay handshake can pass its timeout (RelayConnectError);
  // the page's start() builds a fresh SwarmNode each time.
  const start = () => call<{ peerId: string; timings: Record<string, number> }>('start', startOpts);
  const started = await start().catch(start);
  return {
    index,
    peerId: started.peerId,
    context,
    page,
    problems,
    timings: started.timings,
    call,
    info: () => call('info'),
    close: async () => {
      await call('stop').catch(() => {});
      await context.close();
    },
  };
}

export async function launchSwarm(init: LaunchSwarmInit): Promise<RunningSwarm> {
  const relayAddrs = await resolveRelay(init.relay);
  const served = init.url ? undefined : await serveBundledPage(init.page ?? DEFAULT_PEER_PAGE, { nodeShims: init.nodeShims, workers: init.workers });
  const url = init.url ?? served!.url;
  const browser = init.browser ?? (await launchBrowser({ swiftshader: false, ...init.launch }));
  const peers: SwarmPeer[] = [];
  const loaded: LoadedPage[] = [];
  const closed = new Set<number>();
  const indices = Array.from({ length: init.peers }, (_, i) => i);
  const concurrency = init.startConcurrency ?? init.peers;
  const startOpts = { ...init.start, relay: relayAddrs };
  try {
    if (init.loadBeforeStart ?? true) {
      await pool(indices, concurrency, async (i) => {
        loaded[i] = await loadPeerPage(browser, url, i);
      });
      await pool(indices, concurrency, async (i) => {
        peers[i] = await startPeer(loaded[i]!, startOpts);
      });
    } else {
      await pool(indices, concurrency, async (i) => {
        loaded[i] = await loadPeerPage(browser, url, i);
        peers[i] = await startPeer(loaded[i]!, startOpts);
      });
    }
  } catch (e) {
    await Promise.allSettled(loaded.filter((l) => l).map((l) => l.context.close()));
    if (!init.browser) await browser.close();
    await served?.close();
    throw e;
  }
  for (const p of peers) {
    const close = p.close;
    p.close = async () => {
      closed.add(p.index);
      await close();
    };
  }
  return {
    peers,
    browser,
    url,
    relayAddrs,
    async waitForMesh(timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      let missing = '';
      let silent: number[] = [];
      while (Date.now() < end) {
        const live = peers.filter((p) => !closed.has(p.index));
        // A page that does not answer within 10 s (starved or hung renderer) counts as missing.
        const infos = await Promise.all(live.map((p) => Promise.race([p.info(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000))]).catch(() => undefined)));
        silent = live.filter((_, i) => !infos[i]).map((p) => p.index);
        const gaps = live.flatMap((p, i) => live.filter((q) => q !== p && !infos[i]?.direct.includes(q.peerId)).map((q) => `${p.index}->${q.index}`));
        if (!gaps.length) return;
        missing = gaps.join(' ');
        await new Promise((r) => setTimeout(r, 1000));
      }
      throw new Error(`swarm mesh incomplete after ${timeoutMs} ms; missing direct links: ${missing}${silent.length ? `; pages not answering: ${silent.join(' ')}` : ''}`);
    },
    async close() {
      await Promise.allSettled(peers.filter((p) => !closed.has(p.index)).map((p) => p.close()));
      if (!init.browser) await browser.close();
      await served?.close();
    },
  };
}
