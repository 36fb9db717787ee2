/**
 * Checkpoints: safetensors write/read round-trips, the reader rejects malformed files with a
 * named error (never crashes), F16/BF16/I64 decode, and a model saved with the Hugging Face
 * GPT-2 names reloads bit-exactly and loads the HF-written fixture (with `transformer.` prefix
 * and ignored buffers too).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../../src/backend/index.ts';
import {
  CheckpointMismatchError,
  flatParamsFromSafetensors,
  flatParamsToSafetensors,
  loadCheckpoint,
  modelFromCheckpoint,
  readSafetensors,
  SafetensorsFormatError,
  saveCheckpoint,
  writeSafetensors,
} from '../../src/checkpoint/index.ts';
import { buildLayout, GPT, type GPTConfig } from '../../src/model/index.ts';
import { randomNormal } from '../../src/ops/reference/index.ts';

function rawFile(header: object, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips F32 and I32 with metadata; header padded to 8 bytes', () => {
    const a = randomNormal(6, 1);
    const b = Int32Array.of(-3, 0, 7);
    const bytes = writeSafetensors({ b: { shape: [3], data: b }, a: { shape: [2, 3], data: a } }, { hello: 'world' });
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    const f = readSafetensors(bytes);
    expect(f.metadata).toEqual({ hello: 'world' });
    expect(f.tensors.get('a')).toEqual({ dtype: 'F32', shape: [2, 3], data: a });
    expect(f.tensors.get('b')).toEqual({ dtype: 'I32', shape: [3], data: b });
    expect(() => writeSafetensors({ x: { shape: [4], data: a } })).toThrow(SafetensorsFormatError);
  });

  it('decodes F16, BF16 and I64', () => {
    const d = new Uint8Array(4 + 4 + 16);
    const dv = new DataView(d.buffer);
    dv.setUint16(0, 0x3c00, true); // f16 1.0
    dv.setUint16(2, 0xc100, true); // f16 -2.5
    dv.setUint16(4, 0x3fc0, true); // bf16 1.5
    dv.setUint16(6, 0xc000, true); // bf16 -2
    dv.setBigInt64(8, -5n, true);
    dv.setBigInt64(16, 123456n, true);
    const f = readSafetensors(
      rawFile(
        {
          h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
          b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] },
          i: { dtype: 'I64', shape: [2], data_offsets: [8, 24] },
        },
        d,
      ),
    );
    expect(Array.from(f.tensors.get('h')!.data)).toEqual([1, -2.5]);
    expect(Array.from(f.tensors.get('b')!.data)).toEqual([1.5, -2]);
    expect(Array.from(f.tensors.get('i')!.data)).toEqual([-5, 123456]);
  });

  it('rejects malformed files with SafetensorsFormatError', () => {
    const bad: Uint8Array[] = [
      new Uint8Array(3),
      rawFile({}, new Uint8Array()).subarray(0, 9),
      (() => {
        const x = rawFile({}, new Uint8Array());
        new DataView(x.buffer).setBigUint64(0, 2n ** 40n, true);
        return x;
      })(),
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(4)),
      rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)),
      rawFile({ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      rawFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      rawFile([1, 2] as unknown as object, new Uint8Array()),
    ];
    const notJson = rawFile({}, new Uint8Array());
    notJson[8] = 0xff;
    bad.push(notJson);
    for (const b of bad) expect(() => readSafetensors(b)).toThrow(SafetensorsFormatError);
  });
});

describe('GPT-2 checkpoints', () => {
  const config: GPTConfig = { vocabSize: 19, contextLength: 8, nLayer: 2, nHead: 2, nEmbd: 8 };

  it('save -> load reproduces the flat buffer exactly, with HF names and Conv1D shapes', async () => {
    const a = new GPT(createCpuBackend(), config, { seed: 3 });
    const bytes = await saveCheckpoint(a);
    const f = readSafetensors(bytes);
    expect(f.tensors.get('h.1.attn.c_attn.weight')!.shape).toEqual([8, 24]);
    expect(f.tensors.get('h.0.mlp.c_proj.weight')!.shape).toEqual([32, 8]);
    expect(f.tensors.get('wpe.weight')!.shape).toEqual([8, 8]);
    expect(JSON.parse(f.metadata.swarmgrad_config)).toEqual(config);
    const b = new GPT(createCpuBackend(), config, { seed: 99 });
    loadCheckpoint(b, bytes);
    expect(Array.from(await b.getParams())).toEqual(Array.from(await a.getParams()));
    const c = modelFromCheckpoint(createCpuBackend(), bytes);
    expect(c.config).toEqual(config);
    expect(Array.from(await c.getParams())).toEqual(Array.from(await a.getParams()));
    // the HF-written fixture has no metadata: nHead is required
    const hf = new Uint8Array(readFileSync(new URL('../fixtures/gpt2-tiny.safetensors', import.meta.url)));
    expect(() => modelFromCheckpoint(createCpuBackend(), hf)).toThrow(/pass nHead/);
    expect(modelFromCheckpoint(createCpuBackend(), hf, { nHead: 2 }).config.nLayer).toBe(2);
  });

  it('accepts the transformer. prefix and ignores lm_head / attention buffers; names mismatches', () => {
    const layout = buildLayout(config);
    const flat = new Float32Array(layout.totalLength);
    for (const s of layout.specs) flat.set(randomNormal(s.length, s.offset), s.offset);
    const file = readSafetensors(flatParamsToSafetensors(flat, layout)).tensors;
    const prefixed = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>([...file].map(([k, v]) => [`transformer.${k}`, v]));
    prefixed.set('lm_head.weight', file.get('wte.weight')!);
    prefixed.set('transformer.h.0.attn.bias', { shape: [1], data: new Float32Array(1) });
    expect(Array.from(flatParamsFromSafetensors(writeSafetensors(prefixed), layout))).toEqual(Array.from(flat));
    const missing = new Map(file);
    missing.delete('h.1.ln_2.bias');
    expect(() => flatParamsFromSafetensors(writeSafetensors(missing), layout)).toThrow(/lacks 'h.1.ln_2.bias'/);
    const extra = new Map(file);
    extra.set('h.2.ln_1.weight', { dtype: 'F32', shape: [8], data: new Float32Array(8) });
    expect(() => flatParamsFromSafetensors(writeSafetensors(extra), layout)).toThrow(CheckpointMismatchError);
    expect(() => flatParamsFromSafetensors(writeSafetensors(file), buildLayout({ ...config, nEmbd: 16 }))).toThrow(/has shape/);
  });

  it('the HF-written fixture round-trips through our writer byte-for-byte in values', () => {
    const bytes = new Uint8Array(readFileSync(new URL('../fixtures/gpt2-tiny.safetensors', import.meta.url)));
    const f = readSafetensors(bytes);
    const again = readSafetensors(writeSafetensors(new Map([...f.tensors].map(([k, v]) => [k, { shape: v.shape, data: v.data }]))));
    expect(again.tensors.size).toBe(f.tensors.size);
    for (const [k, v] of f.tensors) expect(Array.from(again.tensors.get(k)!.data)).toEqual(Array.from(v.data));
  });
});
