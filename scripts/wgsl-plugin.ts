/**
 * Vite/Vitest plugin: `import src from './x.wgsl'` yields the file's text as a string.
 * (Vite's own `?raw` suffix would work too, but esbuild and Node cannot read it; a plain
 * `.wgsl` import works with all three.)
 */
import type { Plugin } from 'vite';

export function wgslText(): Plugin {
  return {
    name: 'swarmgrad-wgsl-text',
    transform(code, id) {
      if (!id.endsWith('.wgsl')) return null;
      return { code: `export default ${JSON.stringify(code)};`, map: null };
    },
  };
}
