/**
 * Node-only corpus loading: reads the bundled corpus packages from node_modules. Not for the
 * browser (it uses node:fs); browsers fetch the plain text that `exportCorpus` writes (see
 * ./browser.ts), e.g. `npx tsx peer-core/src/data/export-corpus.ts moby-dick web/public/corpora/moby-dick.txt`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brownToText, CORPORA, type CorpusName } from './corpora.ts';
import { DatasetError } from './dataset.ts';

const require = createRequire(import.meta.url);

function pkgDir(pkg: string): string {
  return dirname(require.resolve(`${pkg}/package.json`));
}

export interface LoadCorpusOptions {
  /** Stop after about this many characters (whole documents; default: all). */
  maxChars?: number;
}

/** The plain text of a bundled corpus, documents separated by blank lines. */
export function loadCorpusText(name: CorpusName, { maxChars = Number.POSITIVE_INFINITY }: LoadCorpusOptions = {}): string {
  const info = CORPORA[name];
  if (!info) throw new DatasetError(`unknown corpus '${name}'; known: ${Object.keys(CORPORA).join(', ')}`);
  const dir = pkgDir(info.pkg);
  let files: string[];
  let convert = (s: string) => s;
  if (name === 'moby-dick') {
    files = (JSON.parse(readFileSync(join(dir, 'data', 'file_list.json'), 'utf8')) as string[]).map((f) => join(dir, 'data', f));
  } else if (name === 'sotu') {
    files = readdirSync(join(dir, 'data'))
      .filter((f) => /^\d{4}_.*\.txt$/.test(f))
      .sort()
      .map((f) => join(dir, 'data', f));
  } else {
    files = readFileSync(join(dir, 'cats.txt'), 'utf8')
      .split('\n')
      .map((l) => l.split(/\s+/)[0])
      .filter((f) => /^c[a-r]\d\d$/.test(f))
      .map((f) => join(dir, f));
    convert = brownToText;
  }
  const parts: string[] = [];
  let size = 0;
  for (const f of files) {
    if (size >= maxChars) break;
    const text = convert(readFileSync(f, 'utf8')).trim();
    parts.push(text);
    size += text.length + 2;
  }
  return parts.join('\n\n');
}

/** Writes a corpus as one UTF-8 .txt file for the browser to fetch. Returns its length in characters. */
export function exportCorpus(name: CorpusName, outFile: string, options?: LoadCorpusOptions): number {
  const text = loadCorpusText(name, options);
  writeFileSync(outFile, text, 'utf8');
  return text.length;
}
