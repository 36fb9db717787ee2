import { describe, expect, it } from 'vitest';
import { FIELDS, PRESETS, validateJobSpec } from '../src/lib/jobspec.ts';
import { getPath, setPath } from '../src/lib/paths.ts';

describe('job form on the peer-core job schema', () => {
  it('accepts every preset, and every preset has a value for every field the form shows', () => {
    for (const p of PRESETS) {
      expect(validateJobSpec(p.spec), p.id).toMatchObject({ ok: true });
      for (const f of FIELDS) expect(getPath(p.spec, f.path), `${p.id} ${f.path}`).not.toBeUndefined();
    }
  });
  it('reports each bad field under its own path', () => {
    let s: unknown = PRESETS[0]!.spec;
    s = setPath(s, 'model.nLayer', 0);
    s = setPath(s, 'optimizer.lr', null);
    s = setPath(s, 'codec.name', 'zip');
    s = setPath(s, 'name', '');
    const v = validateJobSpec(s);
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(Object.keys(v.errors).sort()).toEqual(['codec.name', 'model.nLayer', 'name', 'optimizer.lr']);
    expect(v.formErrors).toEqual([]);
  });
  it('puts cross-field errors at the field they concern', () => {
    const v = validateJobSpec(setPath(PRESETS[0]!.spec, 'model.nEmbd', 66));
    expect(v).toMatchObject({ ok: false, errors: { 'model.nHead': expect.stringMatching(/divide/) } });
  });
  it('lists issues at paths the form does not show above the form, with their path', () => {
    const v = validateJobSpec(setPath(PRESETS[0]!.spec, 'peers.min', 99));
    expect(v).toMatchObject({ ok: false, formErrors: [expect.stringMatching(/^peers\.min: /)] });
  });
});
