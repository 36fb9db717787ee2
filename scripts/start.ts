/**
 * `npm start`: build what is needed, start the relay on localhost (web app + API), publish the
 * default demo job, launch a small local demo swarm of headless browser peers that train it
 * (peer-core runtime, wasm backend), and print the URLs. Ctrl-C stops everything.
 *
 * Options: --port N (default 8080; 0 picks one), --no-build, --peers N (demo peers, default 3;
 * 0 disables), --relayed (force relayed links), --exit-after-ready (start, wait until the demo
 * swarm reports a training step, print, stop: the quick-start smoke test, test/e2e/start.test.ts).
 *
 * Direct links: Chromium gathers WebRTC candidates only from a non-loopback interface with a
 * default route. Without one (checked here), or when the peers' direct links do not come up in
 * time, the demo peers use relayed links through the local relay, and this script says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COMPUTE_WORKER, launchSwarm, type RunningSwarm } from '../peer-core/src/harness/swarm.ts';
import { loadCorpusText } from '../peer-core/src/data/node.ts';
import { defaultJobSpec } from '../peer-core/src/job/index.ts';
import { generateHostKey, signJob } from '../peer-core/src/runtime/index.ts';
import { untilSignal } from '../relay/src/cli.ts';
import { type RunningRelay, startRelay } from '../relay/src/relay.ts';

const DEMO_PAGE = fileURLToPath(new URL('../test/e2e/training-pages/train.page.ts', import.meta.url));
/** Characters of the corpus handed to each demo peer. */
const DEMO_MAX_CHARS = 300_000;

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Can Chromium form direct WebRTC links here? (a non-loopback IPv4 interface and a default route) */
export function webrtcHostCandidates(): { ok: boolean; reason: string } {
  const ifaces = Object.entries(networkInterfaces()).flatMap(([name, as]) => (as ?? []).filter((a) => !a.internal && a.family === 'IPv4').map((a) => `${name} ${a.address}`));
  if (!ifaces.length) return { ok: false, reason: 'no non-loopback network interface' };
  let defaultRoute = false;
  try {
    defaultRoute = readFileSync('/proc/net/route', 'utf8')
      .split('\n')
      .slice(1)
      .some((l) => l.split(/\s+/)[1] === '00000000');
  } catch {
    defaultRoute = process.platform !== 'linux';
  }
  if (!defaultRoute) return { ok: false, reason: `no default route (interfaces: ${ifaces.join(', ')})` };
  return { ok: true, reason: ifaces.join(', ') };
}

interface DemoStatus {
  state: string;
  steps: number;
  lastStep?: { step: number; loss: number; peers: number; mixed: number; tokensPerSecond: number };
  evals: { step: number; heldOutLoss: number }[];
  error?: string;
  summary?: unknown;
  direct: number;
}

export interface DemoSwarm {
  swarm: RunningSwarm;
  jobId: string;
  links: 'direct' | 'relayed';
  status(): Promise<DemoStatus[]>;
  close(): Promise<void>;
}

/** Publish the demo job on `relay` and start `peers` headless browser peers training it. */
export async function startDemoSwarm(relay: RunningRelay, opts: { peers: number; relayed?: boolean; log?: (s: string) => void }): Promise<DemoSwarm> {
  const log = opts.log ?? console.log;
  const spec = defaultJobSpec({ peers: { min: Math.min(opts.peers, 2), max: Math.max(opts.peers, 2) } });
  const env = await signJob(await generateHostKey(), spec);
  const added = await relay.jobs.add(env);
  if (!added.ok) throw new Error(`demo job rejected by the relay: ${added.reason}`);
  let relayed = opts.relayed ?? false;
  if (!relayed) {
    const c = webrtcHostCandidates();
    if (!c.ok) {
      log(`demo swarm: direct WebRTC links are unavailable on this machine (${c.reason}); the demo peers use relayed links through the local relay.`);
      relayed = true;
    }
  }
  // Relayed from the start: the peers do not even try direct WebRTC dials.
  const swarm = await launchSwarm({ relay: relay.http.url, peers: opts.peers, page: DEMO_PAGE, workers: COMPUTE_WORKER, startConcurrency: 2, start: relayed ? { autoConnect: false } : {} });
  if (!relayed && opts.peers > 1) {
    try {
      await swarm.waitForMesh(30_000);
    } catch (e) {
      log(`demo swarm: direct links did not come up (${(e as Error).message}); using relayed links.`);
      relayed = true;
    }
  }
  const text = loadCorpusText(spec.dataset.corpus, { maxChars: DEMO_MAX_CHARS });
  try {
    await Promise.all(swarm.peers.map((p) => p.call('train', { relayHttp: relay.http.url, jobId: env.payload.jobId, text, allowRelayed: relayed, minPeers: opts.peers })));
  } catch (e) {
    await swarm.close();
    throw e;
  }
  return {
    swarm,
    jobId: env.payload.jobId,
    links: relayed ? 'relayed' : 'direct',
    status: () => Promise.all(swarm.peers.map((p) => p.call<DemoStatus>('trainStatus'))),
    close: () => swarm.close(),
  };
}

function summarize(st: DemoStatus[]): string {
  const steps = st.map((s) => s.lastStep?.step ?? 0);
  const losses = st.map((s) => s.lastStep?.loss).filter((x): x is number => x !== undefined);
  const held = st.map((s) => s.evals.at(-1)?.heldOutLoss).filter((x): x is number => x !== undefined);
  const tps = st.reduce((a, s) => a + (s.lastStep?.tokensPerSecond ?? 0), 0);
  const mean = (xs: number[]) => (xs.length ? (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3) : '-');
  const peers = Math.max(...st.map((s) => s.lastStep?.peers ?? 0));
  const mixed = st.map((s) => s.lastStep?.mixed ?? 0).join('/');
  return `demo swarm: step ${Math.min(...steps)}..${Math.max(...steps)}, train loss ${mean(losses)}, held-out ${mean(held)}, ${tps.toFixed(0)} tokens/s, ${peers} peers in view, neighbours mixed ${mixed}, direct links ${st.map((s) => s.direct).join('/')}, ${st.map((s) => s.state).join('/')}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: 'string' },
      'no-build': { type: 'boolean' },
      'exit-after-ready': { type: 'boolean' },
      peers: { type: 'string' },
      relayed: { type: 'boolean' },
    },
  });
  const peers = values.peers === undefined ? 3 : Number(values.peers);
  if (!Number.isInteger(peers) || peers < 0 || peers > 16) {
    console.error(`start: --peers must be an integer 0..16, got ${values.peers}`);
    return 2;
  }
  const webBuilt = existsSync('web/dist/index.html') && statSync('web/dist/index.html').mtimeMs >= newestMtime('web/src');
  if (!values['no-build'] && !webBuilt) {
    console.log('start: building the web app');
    const r = spawnSync('npm', ['run', 'build', '-w', 'web'], { stdio: 'inherit' });
    if (r.status !== 0) return r.status ?? 1;
  }
  const exitAfterReady = values['exit-after-ready'] ?? false;
  const relay = await startRelay({
    httpPort: values.port === undefined ? 8080 : Number(values.port),
    // The smoke test must not touch the persistent relay state (identity, jobs).
    ...(exitAfterReady ? { dataDir: mkdtempSync(join(tmpdir(), 'sg-start-')), wsPort: 0 } : {}),
  });
  console.log(`\nSwarmgrad is running.\n  volunteer page:  ${relay.http.url}\n  host dashboard:  ${relay.http.url}host\n  health:          ${relay.http.url}api/health\n  jobs:            ${relay.http.url}api/jobs`);
  let demo: DemoSwarm | undefined;
  let code = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    if (peers > 0) {
      console.log(`\nstart: launching a demo swarm of ${peers} headless browser peer(s) on the default job (wasm backend)`);
      demo = await startDemoSwarm(relay, { peers, relayed: values.relayed });
      console.log(`demo swarm: job ${demo.jobId}, ${demo.links} links; watch it at ${relay.http.url}host`);
      if (exitAfterReady) {
        const end = Date.now() + 180_000;
        let st: DemoStatus[] = [];
        while (Date.now() < end) {
          st = await demo.status();
          if (st.some((s) => s.error) || st.some((s) => s.steps > 0 && (s.lastStep?.mixed ?? 0) > 0) || (peers === 1 && st[0]!.steps > 0)) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        const err = st.find((s) => s.error)?.error;
        if (err || !st.some((s) => s.steps > 0)) {
          console.error(`start: the demo swarm reported no training step (${err ?? 'timed out'})`);
          code = 1;
        } else console.log(`${summarize(st)}\ndemo swarm: ready (a training step was reported)`);
      } else {
        timer = setInterval(() => {
          demo
            ?.status()
            .then((st) => console.log(summarize(st)))
            .catch(() => {});
        }, 10_000);
      }
    } else console.log('\nstart: no demo swarm (--peers 0)');
    if (!exitAfterReady) {
      console.log('\nCtrl-C to stop.');
      await untilSignal();
    }
  } catch (e) {
    console.error(`start: demo swarm failed: ${(e as Error).message}`);
    code = 1;
  } finally {
    if (timer) clearInterval(timer);
    await demo?.close().catch(() => {});
    await relay.stop();
  }
  return code;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(await main());
