/**
 * The browser's prepare step: writes a bundled corpus as a plain .txt file that a page can
 * fetch (fetchCorpusText). Usage:
 *   npx tsx peer-core/src/data/export-corpus.ts <moby-dick|sotu|brown> <out.txt> [maxChars]
 */
import { CORPORA, type CorpusName } from './corpora.ts';
import { exportCorpus } from './node.ts';

const [name, out, max] = process.argv.slice(2);
if (!name || !out || !(name in CORPORA)) {
  console.error(`usage: export-corpus.ts <${Object.keys(CORPORA).join('|')}> <out.txt> [maxChars]`);
  process.exit(2);
}
const n = exportCorpus(name as CorpusName, out, max ? { maxChars: Number(max) } : {});
console.log(`${name}: ${n} characters -> ${out}`);
