/** Tokenizers: byte and char round-trips, named errors, and GPT-2 BPE ids as the real GPT-2 tokenizer gives them. */
import { describe, expect, it } from 'vitest';
import { ByteTokenizer, CharTokenizer, createGpt2Tokenizer, TokenizerError } from '../../src/tokenizer/index.ts';

describe('tokenizers', () => {
  const text = 'Call me Ishmael — naïve 🐋\nwhale';

  it('byte level round-trips any UTF-8 text', () => {
    const t = new ByteTokenizer();
    const ids = t.encode(text);
    expect(ids.length).toBe(new TextEncoder().encode(text).length);
    expect(ids.every((i) => i >= 0 && i < 256)).toBe(true);
    expect(t.decode(ids)).toBe(text);
    expect(() => t.decode([300])).toThrow(TokenizerError);
  });

  it('char level: one id per code point, sorted, round-trips, rejects unknown characters', () => {
    const t = CharTokenizer.fromText(text);
    expect(t.vocabSize).toBe(new Set(text).size);
    expect(t.decode(t.encode(text))).toBe(text);
    expect(t.encode('\n')).toEqual([0]);
    expect(() => t.encode('Z')).toThrow(TokenizerError);
    expect(() => t.decode([t.vocabSize])).toThrow(TokenizerError);
  });

  it('GPT-2 BPE (r50k_base) gives the GPT-2 ids', async () => {
    const t = await createGpt2Tokenizer();
    expect(t.vocabSize).toBe(50257);
    // "Hello world" is [15496, 995] in GPT-2's vocabulary (Hello = 15496, Ġworld = 995)
    expect(t.encode('Hello world')).toEqual([15496, 995]);
    expect(t.decode(t.encode(text))).toBe(text);
    // special tokens in raw text are plain text, not <|endoftext|> (50256)
    expect(t.encode('<|endoftext|>')).not.toContain(50256);
  });
});
