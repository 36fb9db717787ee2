/**
 * `swarmgrad <command>`: the command-line entry point.
 *   swarmgrad relay [--host 127.0.0.1] [--port 8080] [--ws-port 9090] [--data-dir DIR]
 *   swarmgrad swarm --relay URL --peers N [--page FILE.ts | --url URL] [--headed]
 *     (N headless Chromium volunteers join the relay's swarm; on a machine without a LAN
 *      interface run it inside test/netns/run.sh together with the relay)
 * Shuts down gracefully on SIGINT and SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startRelay } from './relay.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

async function relayCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { host: { type: 'string' }, port: { type: 'string' }, 'ws-port': { type: 'string' }, 'data-dir': { type: 'string' } },
    strict: true,
  });
  const port = parsePort(values.port, '--port');
  const wsPort = parsePort(values['ws-port'], '--ws-port');
  const relay = await startRelay({ host: values.host, httpPort: port, wsPort, dataDir: values['data-dir'] });
  console.log(`relay: web app and API on ${relay.http.url}`);
  for (const a of relay.info().multiaddrs) console.log(`relay: libp2p on ${a}`);
  await untilSignal();
  console.log('relay: shutting down');
  await relay.stop();
}

function parsePort(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be 0..65535, got ${v}`);
  return n;
}

export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((ok) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      ok(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

async function swarmCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { relay: { type: 'string' }, peers: { type: 'string' }, page: { type: 'string' }, url: { type: 'string' }, headed: { type: 'boolean' } },
    strict: true,
  });
  if (!values.relay) throw new UsageError('--relay URL (the relay HTTP URL, or its multiaddr) is required');
  const peers = Number(values.peers ?? 4);
  if (!Number.isInteger(peers) || peers < 1 || peers > 256) throw new UsageError(`--peers must be 1..256, got ${values.peers}`);
  // Imported here: playwright and esbuild are only needed by this command.
  const { launchSwarm } = await import('@swarmgrad/peer-core/harness');
  const swarm = await launchSwarm({ relay: values.relay, peers, page: values.page, url: values.url, launch: { headless: !values.headed }, startConcurrency: 4 });
  console.log(`swarm: ${peers} volunteers started (${swarm.url}); relay ${swarm.relayAddrs.join(', ')}`);
  const report = async () => {
    const infos = await Promise.all(swarm.peers.map((p) => p.info().catch(() => undefined)));
    const direct = infos.map((i) => i?.direct.length ?? 0);
    console.log(`swarm: direct links per peer [${direct.join(' ')}] (full mesh = ${peers - 1})`);
  };
  await report();
  const timer = setInterval(() => void report(), 10_000);
  await untilSignal();
  clearInterval(timer);
  console.log('swarm: shutting down');
  await swarm.close();
}

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = { relay: relayCommand, swarm: swarmCommand };

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const run = cmd ? COMMANDS[cmd] : undefined;
  if (!run) {
    console.error(`usage: swarmgrad <${Object.keys(COMMANDS).join('|')}> [options]`);
    return 2;
  }
  try {
    await run(rest);
    return 0;
  } catch (e) {
    const err = e as Error;
    console.error(`swarmgrad ${cmd}: ${err.name}: ${err.message}`);
    return err instanceof UsageError || err.name === 'TypeError' ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
