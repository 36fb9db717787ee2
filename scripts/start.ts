/**
 * `npm start`: build what is needed, start the relay on localhost (web app + API), and print
 * the URLs. Ctrl-C stops everything. Options: --port N (default 8080), --no-build,
 * --exit-after-ready (start, print, stop: used by the quick-start smoke test).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startRelay } from '../relay/src/relay.ts';
import { untilSignal } from '../relay/src/cli.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { port: { type: 'string' }, 'no-build': { type: 'boolean' }, 'exit-after-ready': { type: 'boolean' } },
});

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

const webBuilt = existsSync('web/dist/index.html') && statSync('web/dist/index.html').mtimeMs >= newestMtime('web/src');
if (!values['no-build'] && !webBuilt) {
  console.log('start: building the web app');
  const r = spawnSync('npm', ['run', 'build', '-w', 'web'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const relay = await startRelay({ httpPort: values.port === undefined ? 8080 : Number(values.port) });
console.log(`\nSwarmgrad is running.\n  volunteer page:  ${relay.http.url}\n  host dashboard:  ${relay.http.url}host\n  health:          ${relay.http.url}api/health\n\nCtrl-C to stop.`);
if (!values['exit-after-ready']) await untilSignal();
await relay.stop();
