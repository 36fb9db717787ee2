/**
 * startRelay: the relay process. Today it runs the HTTP server (web app + health/metrics);
 * the libp2p node (WebSockets, circuit relay v2, gossipsub, discovery) attaches here.
 */
import { fileURLToPath } from 'node:url';
import { type RunningHttpServer, startHttpServer } from './http.ts';

export interface RelayInit {
  /** Interface to bind; default 127.0.0.1 (never exposed unless asked). */
  host?: string;
  /** HTTP port; default 8080, 0 picks a free port. */
  httpPort?: number;
  /** Folder of persistent state (identity key, jobs); default .swarmgrad-data/relay */
  dataDir?: string;
  /** Built web app to serve; default web/dist of this repository. */
  webDir?: string;
}

export const RELAY_DEFAULTS = {
  host: '127.0.0.1',
  httpPort: 8080,
  dataDir: '.swarmgrad-data/relay',
  webDir: fileURLToPath(new URL('../../web/dist/', import.meta.url)),
} as const;

export interface RunningRelay {
  http: RunningHttpServer;
  stop(): Promise<void>;
}

export async function startRelay(init: RelayInit = {}): Promise<RunningRelay> {
  const cfg = { ...RELAY_DEFAULTS, ...init };
  const http = await startHttpServer({ staticDir: cfg.webDir, host: cfg.host, port: cfg.httpPort });
  return {
    http,
    async stop() {
      await http.close();
    },
  };
}
