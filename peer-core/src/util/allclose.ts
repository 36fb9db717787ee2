/**
 * Tolerance check used by every kernel test: |got - ref| <= atol + rtol * |ref| elementwise.
 * Returns a report instead of a boolean so failures print the worst elements.
 */
export interface AllcloseReport {
  ok: boolean;
  /** Number of elements outside tolerance. */
  bad: number;
  maxAbsErr: number;
  /** Largest |err| / (atol + rtol*|ref|); <= 1 means within tolerance. */
  worstRatio: number;
  /** First few offending elements: [index, got, ref]. */
  samples: Array<[number, number, number]>;
  message: string;
}

export function allclose(
  got: ArrayLike<number>,
  ref: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-4 }: { atol?: number; rtol?: number } = {},
): AllcloseReport {
  if (got.length !== ref.length) {
    return { ok: false, bad: Math.max(got.length, ref.length), maxAbsErr: Number.POSITIVE_INFINITY, worstRatio: Number.POSITIVE_INFINITY, samples: [], message: `length mismatch: got ${got.length}, ref ${ref.length}` };
  }
  let bad = 0;
  let maxAbsErr = 0;
  let worstRatio = 0;
  const samples: Array<[number, number, number]> = [];
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const r = ref[i];
    const err = Math.abs(g - r);
    const tol = atol + rtol * Math.abs(r);
    const ratio = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err / tol;
    if (err > maxAbsErr || Number.isNaN(err)) maxAbsErr = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
    if (ratio > worstRatio) worstRatio = ratio;
    if (!(err <= tol)) {
      bad++;
      if (samples.length < 5) samples.push([i, g, r]);
    }
  }
  const ok = bad === 0;
  const message = ok
    ? `allclose ok (n=${got.length}, maxAbsErr=${maxAbsErr.toExponential(2)}, worst=${worstRatio.toFixed(3)} of tol)`
    : `${bad}/${got.length} elements outside atol=${atol} rtol=${rtol}; maxAbsErr=${maxAbsErr.toExponential(3)}; first: ${samples
        .map(([i, g, r]) => `[${i}] got ${g} ref ${r}`)
        .join(', ')}`;
  return { ok, bad, maxAbsErr, worstRatio, samples, message };
}
