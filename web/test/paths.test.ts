import { describe, expect, it } from 'vitest';
import { getPath, setPath } from '../src/lib/paths.ts';

describe('dotted paths', () => {
  it('reads nested values and misses cleanly', () => {
    const o = { a: { b: { c: 3 } }, x: null };
    expect(getPath(o, 'a.b.c')).toBe(3);
    expect(getPath(o, 'a.z.c')).toBeUndefined();
    expect(getPath(o, 'x.y')).toBeUndefined();
  });
  it('sets without mutating the input, creating objects on the way', () => {
    const o = { a: { b: 1 } };
    const p = setPath(o, 'a.c.d', 5);
    expect(p).toEqual({ a: { b: 1, c: { d: 5 } } });
    expect(o).toEqual({ a: { b: 1 } });
  });
});
