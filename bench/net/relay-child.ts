/**
 * The relay in its own process, for the browser-swarm benchmarks (mesh.ts, idle-profile.ts): the
 * driver process also runs Playwright, which receives every relay WebSocket frame of every page
 * as a CDP event; a relay in the same process would compete with that for one event loop.
 *
 *   spawnRelayChild()  starts `tsx relay-child.ts --relay-child` and resolves with its HTTP URL
 *                      once the child printed its info (one JSON line).
 *   run directly       with --relay-child: start a relay (ephemeral ports and data dir), print
 *                      its info, run until SIGTERM.
 * What it is not: the `swarmgrad relay` CLI (relay/src/cli.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export async function spawnRelayChild(): Promise<{ url: string; stop: () => void }> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--relay-child'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((ok, fail) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) ok(buf.slice(0, i));
    });
    child.on('exit', (code) => fail(new Error(`relay child exited (${code}) before it started`)));
  });
  const info = JSON.parse(line) as { url: string };
  return { url: info.url, stop: () => child.kill('SIGTERM') };
}

if (process.argv.includes('--relay-child') && process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startRelay } = await import('../../relay/src/relay.ts');
  const dir = mkdtempSync(join(tmpdir(), 'sg-bench-relay-'));
  const relay = await startRelay({ httpPort: 0, wsPort: 0, dataDir: dir, webDir: dir });
  console.log(JSON.stringify({ url: relay.http.url, ...relay.info() }));
  process.on('SIGTERM', () => void relay.stop().then(() => process.exit(0)));
  await new Promise(() => {});
}
