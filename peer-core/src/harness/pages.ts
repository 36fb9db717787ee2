/**
 * Serves pages for browser tests and benchmarks from http://localhost (a secure context, so
 * `navigator.gpu` exists), through a Vite dev server: page scripts may be TypeScript and may
 * import workspace packages and `.wgsl` files directly. Node-only.
 */
import { createServer, type ViteDevServer } from 'vite';
import { fileURLToPath } from 'node:url';
import { wgslText } from '../../../scripts/wgsl-plugin.ts';

export interface ServedPages {
  /** Base URL, e.g. http://localhost:41234/ */
  url: string;
  close(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Serve `root` (a folder of .html pages) on an ephemeral localhost port. */
export async function servePages(root: string): Promise<ServedPages> {
  const server: ViteDevServer = await createServer({
    configFile: false,
    root,
    logLevel: 'error',
    plugins: [wgslText()],
    server: { host: 'localhost', port: 0, strictPort: false, fs: { allow: [repoRoot] }, hmr: false },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('page server has no TCP address');
  return {
    url: `http://localhost:${addr.port}/`,
    close: () => server.close(),
  };
}
