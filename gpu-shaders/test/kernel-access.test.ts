/**
 * kernel.ts's aliasing rule, in Node: only the bindings of a buffer bound at several ranges are
 * compiled read_write; every other read-only binding keeps `var<storage, read>`.
 */
import { describe, expect, it } from 'vitest';
import { aliasedBindings, readWriteVariant } from '../src/kernel.ts';

const gpuBuffer = (size: number) => ({ size, mapState: 'unmapped' }) as unknown as GPUBuffer;
const CODE = [
  '@group(0) @binding(0) var<uniform> p: Params;',
  '@group(0) @binding(1) var<storage, read> a: array<f32>;',
  '@group(0) @binding(2) var<storage,read> b: array<f32>;',
  '@group(0) @binding(3) var<storage, read_write> out: array<f32>;',
].join('\n');

describe('aliasedBindings', () => {
  it('names every binding of a buffer bound at two different ranges, and nothing else', () => {
    const arena = gpuBuffer(4096);
    const other = gpuBuffer(256);
    const entries = [gpuBuffer(16), { buffer: arena, offset: 0, size: 1024 }, other, { buffer: arena, offset: 1024, size: 1024 }];
    expect(aliasedBindings(entries)).toEqual([1, 3]);
  });

  it('leaves one range bound twice alone (a read-only share) and skips absent entries', () => {
    const t = gpuBuffer(64);
    expect(aliasedBindings([null, t, t, gpuBuffer(64)])).toEqual([]);
  });
});

describe('readWriteVariant', () => {
  it('promotes exactly the named bindings, whatever the spacing', () => {
    const rw = readWriteVariant(CODE, [2]);
    expect(rw).toContain('@binding(1) var<storage, read> a');
    expect(rw).toContain('@binding(2) var<storage, read_write> b');
    expect(rw).toContain('@binding(3) var<storage, read_write> out');
    expect(readWriteVariant(CODE, [1, 2])).not.toMatch(/var<storage,\s*read>/);
    expect(readWriteVariant(CODE, [])).toBe(CODE);
  });
});
