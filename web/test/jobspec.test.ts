import { describe, expect, it } from 'vitest';
import { PRESETS, validateJobSpec } from '../src/lib/jobspec.ts';
import { setPath } from '../src/lib/paths.ts';

describe('job form validation', () => {
  it('accepts every preset', () => {
    for (const p of PRESETS) expect(validateJobSpec(p.spec), p.id).toMatchObject({ ok: true });
  });
  it('reports each bad field under its own path', () => {
    let s: unknown = PRESETS[0]!.spec;
    s = setPath(s, 'model.nLayer', 0);
    s = setPath(s, 'optimizer.lr', null);
    s = setPath(s, 'algorithm.codec', 'zip');
    s = setPath(s, 'name', ' ');
    const v = validateJobSpec(s);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(Object.keys(v.errors).sort()).toEqual(['algorithm.codec', 'model.nLayer', 'name', 'optimizer.lr']);
    expect(v.errors['model.nLayer']).toMatch(/at least 1/);
  });
  it('checks that the width is a multiple of the heads', () => {
    const v = validateJobSpec(setPath(PRESETS[0]!.spec, 'model.nEmbd', 33));
    expect(v).toMatchObject({ ok: false, errors: { 'model.nEmbd': expect.stringMatching(/multiple/) } });
  });
});
