/**
 * Node ESM loader hook so Node-side code (relay, CLI, Node peers) can import `.wgsl` files
 * as text, the same way Vite and esbuild do. Registered by scripts/register.ts.
 */
import { readFile } from 'node:fs/promises';

type LoadResult = { format: string; source: string; shortCircuit?: boolean };
type NextLoad = (url: string, context: unknown) => Promise<LoadResult>;

export async function load(url: string, context: unknown, nextLoad: NextLoad): Promise<LoadResult> {
  if (url.endsWith('.wgsl')) {
    const text = await readFile(new URL(url), 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
