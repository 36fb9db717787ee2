import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHttpServer, startHttpServer, toPrometheus } from '../src/http.ts';

let srv: RunningHttpServer;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-web-'));
  writeFileSync(join(dir, 'index.html'), '<h1>app</h1>');
  writeFileSync(join(dir, 'a.js'), 'export {}');
  srv = await startHttpServer({ staticDir: dir, metrics: () => ({ peers: 3 }) });
});
afterAll(() => srv.close());

describe('relay http server', () => {
  it('serves files and falls back to index.html for client routes', async () => {
    const js = await fetch(`${srv.url}a.js`);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect(await (await fetch(`${srv.url}host`)).text()).toBe('<h1>app</h1>');
  });
  it('answers health and metrics as JSON and Prometheus text', async () => {
    const h = await (await fetch(`${srv.url}api/health`)).json();
    expect(h.ok).toBe(true);
    const m = await (await fetch(`${srv.url}api/metrics`)).json();
    expect(m.peers).toBe(3);
    const text = await (await fetch(`${srv.url}api/metrics?format=prometheus`)).text();
    expect(text).toContain('swarmgrad_peers 3');
  });
  it('refuses path traversal and unknown API routes without crashing', async () => {
    const r = await fetch(`${srv.url}..%2f..%2fetc%2fpasswd`);
    expect([200, 403]).toContain(r.status);
    if (r.status === 200) expect(await r.text()).toBe('<h1>app</h1>');
    expect((await fetch(`${srv.url}api/nope`)).status).toBe(404);
    expect((await fetch(`${srv.url}%E0%A4%A`)).status).toBe(400);
  });
  it('formats Prometheus names safely', () => {
    expect(toPrometheus({ 'a-b': 1, c: Number.NaN })).toBe('swarmgrad_a_b 1\nswarmgrad_c 0\n');
  });
});
