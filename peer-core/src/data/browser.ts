/**
 * Browser corpus loading: fetch the plain text that `export-corpus.ts` wrote (any URL the page
 * can reach) and build the same TokenDataset as in Node.
 */
import type { Tokenizer } from '../tokenizer/index.ts';
import { type DatasetInit, DatasetError, TokenDataset } from './dataset.ts';

export async function fetchCorpusText(url: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  const res = await fetchImpl(url);
  if (!res.ok) throw new DatasetError(`fetching corpus ${url}: HTTP ${res.status}`);
  return res.text();
}

export async function fetchDataset(url: string, tokenizer: Tokenizer, init?: DatasetInit): Promise<TokenDataset> {
  return TokenDataset.fromText(await fetchCorpusText(url), tokenizer, init);
}
