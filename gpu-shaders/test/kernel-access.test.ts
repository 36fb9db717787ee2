/**
 * kernel.ts's aliasing rule, in Node: only the read-only bindings of a buffer that the same
 * dispatch also binds writable (at another range) are compiled read_write; several read-only
 * views of one buffer, and every other read-only binding, keep `var<storage, read>`.
 */
import { describe, expect, it } from 'vitest';
import { aliasedBindings, readWriteVariant, writableBindings } from '../src/kernel.ts';

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

describe('aliasedBindings with the kernel\'s writable bindings', () => {
  it('keeps read-only views of one buffer read-only when none of its bindings is written (weight + bias)', () => {
    const params = gpuBuffer(4096);
    const entries = [gpuBuffer(16), gpuBuffer(1024), { buffer: params, offset: 0, size: 1024 }, { buffer: params, offset: 1024, size: 256 }, gpuBuffer(1024)];
    const writable = writableBindings('@binding(4) var<storage, read_write> out: array<f32>;');
    expect([...writable]).toEqual([4]);
    expect(aliasedBindings(entries, writable)).toEqual([]);
  });

  it('promotes the other views of a buffer that the dispatch writes', () => {
    const arena = gpuBuffer(4096);
    const entries = [gpuBuffer(16), { buffer: arena, offset: 0, size: 1024 }, gpuBuffer(256), { buffer: arena, offset: 1024, size: 1024 }];
    expect(aliasedBindings(entries, writableBindings(CODE))).toEqual([1, 3]);
    // b (binding 2) shares nothing with out: untouched even though it is read-only
    expect(aliasedBindings([gpuBuffer(16), arena, arena, { buffer: arena, offset: 2048, size: 1024 }], writableBindings(CODE))).toEqual([1, 2, 3]);
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
