/** Data: the bundled corpora load as text, the held-out split never leaks into training batches, batches are shifted windows, the unigram baseline is the closed form. */
import { describe, expect, it } from 'vitest';
import { brownToText, DatasetError, fetchCorpusText, TokenDataset } from '../../src/data/index.ts';
import { loadCorpusText } from '../../src/data/node.ts';
import { mulberry32 } from '../../src/ops/reference/index.ts';
import { CharTokenizer } from '../../src/tokenizer/index.ts';

describe('bundled corpora', () => {
  it('moby-dick, sotu and brown load as plain text', () => {
    const moby = loadCorpusText('moby-dick', { maxChars: 50_000 });
    expect(moby).toContain('Call me Ishmael.');
    expect(moby.length).toBeGreaterThan(50_000);
    expect(moby.length).toBeLessThan(200_000);
    expect(loadCorpusText('sotu', { maxChars: 1 })).toMatch(/^Fellow-Citizens of the Senate and House of Representatives/);
    const brown = loadCorpusText('brown', { maxChars: 1 });
    expect(brown).toMatch(/^The Fulton County Grand Jury said Friday/);
    expect(brown).not.toMatch(/\/(at|np|nn)\b/);
  });

  it('brown tags are stripped and punctuation re-attached', () => {
    expect(brownToText("\tThe/at jury/nn said/vbd ,/, ``/`` no/at ''/'' ./.\n")).toBe('The jury said, "no".');
  });
});

describe('TokenDataset', () => {
  const tokens = Array.from({ length: 1000 }, (_, i) => i % 10);
  const ds = new TokenDataset(tokens, 10, { heldOutFraction: 0.2 });

  it('splits off the tail and samples only inside a split', () => {
    expect(ds.train.length).toBe(800);
    expect(ds.heldOut.length).toBe(200);
    // mark positions: a dataset whose token = position bucket shows where windows come from
    const pos = new TokenDataset(Array.from({ length: 1000 }, (_, i) => (i < 900 ? 0 : 1)), 2);
    const rand = mulberry32(1);
    for (let i = 0; i < 50; i++) {
      const b = pos.sampleBatch('train', 4, 16, rand);
      expect(b.tokens.every((t) => t === 0)).toBe(true);
      expect(b.targets.every((t) => t === 0)).toBe(true);
      const h = pos.sampleBatch('heldOut', 4, 16, rand);
      expect(h.tokens.every((t) => t === 1)).toBe(true);
    }
  });

  it('targets are tokens shifted by one', () => {
    const b = ds.sampleBatch('train', 3, 7, mulberry32(2));
    for (let r = 0; r < 3; r++) for (let t = 0; t < 7; t++) expect(b.targets[r * 7 + t]).toBe((b.tokens[r * 7 + t] + 1) % 10);
    const e = ds.evalBatches('heldOut', 2, 5, 3);
    expect(e.length).toBe(3);
    expect(ds.evalBatches('heldOut', 2, 5, 3)).toEqual(e);
  });

  it('unigram baseline is the add-one smoothed closed form', () => {
    const d = new TokenDataset([0, 0, 0, 1, 0, 1, 2, 1, 0, 2], 4, { heldOutFraction: 0.2 });
    // train = [0,0,0,1,0,1,2,1] -> counts+1 = [5,4,2,1] / 12; held out = [0, 2]
    const want = -(Math.log(5 / 12) + Math.log(2 / 12)) / 2;
    expect(d.unigramHeldOutLoss()).toBeCloseTo(want, 12);
  });

  it('named errors', () => {
    expect(() => new TokenDataset([0, 5], 3)).toThrow(DatasetError);
    expect(() => new TokenDataset([0, 1], 3, { heldOutFraction: 1 })).toThrow(DatasetError);
    expect(() => ds.sampleBatch('heldOut', 1, 500, Math.random)).toThrow(/fewer than one window/);
  });

  it('builds from text, and from fetched text in the browser path', async () => {
    const text = 'abcabcabcabd';
    const tok = CharTokenizer.fromText(text);
    const d = TokenDataset.fromText(text, tok, { heldOutFraction: 0.25 });
    expect(tok.decode(d.heldOut)).toBe('abd');
    const fake = (async (url: string) => new Response(url.endsWith('ok.txt') ? text : 'nope', { status: url.endsWith('ok.txt') ? 200 : 404 })) as typeof fetch;
    expect(await fetchCorpusText('http://x/ok.txt', fake)).toBe(text);
    await expect(fetchCorpusText('http://x/missing.txt', fake)).rejects.toThrow(/HTTP 404/);
  });
});
