/**
 * The relay's HTTP server: serves the built web app (web/dist) with SPA fallback, plus
 * `/api/health` and `/api/metrics` (JSON, or Prometheus text with `?format=prometheus`
 * or `Accept: text/plain`). It never throws on a request: bad paths get 4xx answers.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

export type MetricsSource = () => Record<string, number>;
export type HealthSource = () => Record<string, unknown>;
export type ApiHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface HttpServerInit {
  /** Folder of the built web app; index.html answers unknown paths (client-side routing). */
  staticDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  health?: HealthSource;
  metrics?: MetricsSource;
  /** Extra API routes; return true when handled. */
  api?: ApiHandler;
}

export interface RunningHttpServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

export function toPrometheus(metrics: Record<string, number>): string {
  return `${Object.entries(metrics)
    .map(([k, v]) => `swarmgrad_${k.replace(/[^a-zA-Z0-9_]/g, '_')} ${Number.isFinite(v) ? v : 0}`)
    .join('\n')}\n`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function startHttpServer(init: HttpServerInit): Promise<RunningHttpServer> {
  const root = resolve(init.staticDir);
  const started = Date.now();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/api/health') {
      return sendJson(res, 200, { ok: true, uptimeSeconds: (Date.now() - started) / 1000, ...(init.health?.() ?? {}) });
    }
    if (url.pathname === '/api/metrics') {
      const m = { uptime_seconds: (Date.now() - started) / 1000, ...(init.metrics?.() ?? {}) };
      const wantsText = url.searchParams.get('format') === 'prometheus' || (req.headers.accept ?? '').includes('text/plain');
      if (wantsText) {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        return res.end(toPrometheus(m));
      }
      return sendJson(res, 200, m);
    }
    if (init.api && (await init.api(req, res, url))) return;
    if (url.pathname.startsWith('/api/')) return sendJson(res, 404, { error: 'NotFound', path: url.pathname });
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'MethodNotAllowed' });
    let rel: string;
    try {
      rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
    } catch {
      return sendJson(res, 400, { error: 'BadPath' });
    }
    let file = join(root, rel);
    if (file !== root && !file.startsWith(root + sep)) return sendJson(res, 403, { error: 'Forbidden' });
    if (!existsSync(file) || statSync(file).isDirectory()) {
      const index = join(file, 'index.html');
      file = existsSync(index) ? index : join(root, 'index.html');
    }
    if (!existsSync(file)) return sendJson(res, 404, { error: 'NotFound', hint: 'web app not built: run `npm run build -w web`' });
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { error: 'InternalError', message: String(err?.message ?? err) });
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(init.port ?? 0, init.host ?? '127.0.0.1', () => ok());
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('HTTP server has no TCP address');
  const host = init.host ?? '127.0.0.1';
  return {
    server,
    port: addr.port,
    url: `http://${host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host}:${addr.port}/`,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}
