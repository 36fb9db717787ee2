// WGSL sources are imported as text: `import src from './matmul.wgsl'`.
// Vite and Vitest use the plugin in scripts/wgsl-plugin.ts, esbuild its `text` loader,
// and plain Node the loader hook in scripts/wgsl-loader.ts.
declare module '*.wgsl' {
  const source: string;
  export default source;
}
