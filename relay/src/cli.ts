/**
 * `swarmgrad <command>`: the command-line entry point.
 *   swarmgrad relay [--host 127.0.0.1] [--port 8080] [--ws-port 9090] [--data-dir DIR]
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

const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = { relay: relayCommand };

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
