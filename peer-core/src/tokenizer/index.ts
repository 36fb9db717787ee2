/**
 * Tokenizers: byte level (UTF-8 bytes, vocab 256), char level (the code points of a corpus,
 * for tiny tests) and GPT-2 BPE (r50k_base, vocab 50257) through `gpt-tokenizer`, loaded
 * lazily because its merge table is large. All are pure JS and run in the browser and Node.
 */

export interface Tokenizer {
  readonly name: string;
  readonly vocabSize: number;
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}

/** Text with a character the tokenizer does not know, or ids outside its vocabulary. */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

export class ByteTokenizer implements Tokenizer {
  readonly name = 'byte';
  readonly vocabSize = 256;
  private readonly enc = new TextEncoder();
  private readonly dec = new TextDecoder();
  encode(text: string): number[] {
    return Array.from(this.enc.encode(text));
  }
  decode(ids: ArrayLike<number>): string {
    const bytes = Uint8Array.from(ids as ArrayLike<number>);
    for (let i = 0; i < ids.length; i++) if (!(ids[i] >= 0 && ids[i] < 256)) throw new TokenizerError(`byte id ${ids[i]} is outside [0, 256)`);
    return this.dec.decode(bytes);
  }
}

/** One id per distinct code point of `alphabet`, in code point order. */
export class CharTokenizer implements Tokenizer {
  readonly name = 'char';
  readonly chars: string[];
  private readonly ids = new Map<string, number>();
  constructor(alphabet: Iterable<string>) {
    this.chars = [...new Set(alphabet)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    for (let i = 0; i < this.chars.length; i++) this.ids.set(this.chars[i], i);
  }
  /** The tokenizer over every code point that occurs in `text`. */
  static fromText(text: string): CharTokenizer {
    return new CharTokenizer(text);
  }
  get vocabSize(): number {
    return this.chars.length;
  }
  encode(text: string): number[] {
    const out: number[] = [];
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined) throw new TokenizerError(`character ${JSON.stringify(c)} is not in the vocabulary`);
      out.push(id);
    }
    return out;
  }
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const c = this.chars[ids[i]];
      if (c === undefined) throw new TokenizerError(`char id ${ids[i]} is outside [0, ${this.chars.length})`);
      s += c;
    }
    return s;
  }
}

/** GPT-2's byte-level BPE (r50k_base): the tokenizer of the Hugging Face `gpt2` checkpoints. */
export async function createGpt2Tokenizer(): Promise<Tokenizer> {
  const bpe = await import('gpt-tokenizer/encoding/r50k_base');
  return {
    name: 'gpt2',
    vocabSize: bpe.vocabularySize,
    encode: (text) => bpe.encode(text, { disallowedSpecial: new Set() }),
    decode: (ids) => bpe.decode(Array.from(ids)),
  };
}
