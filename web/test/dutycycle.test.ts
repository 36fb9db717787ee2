import { describe, expect, it } from 'vitest';
import { clampShare, DutyMeter, idleAfter } from '../src/lib/dutycycle.ts';
import { mulberry32 } from '@swarmgrad/peer-core/reference';

describe('compute limit duty cycle', () => {
  it('idles so that busy / (busy + idle) equals the share, over random step times', () => {
    const rand = mulberry32(Date.now() >>> 0);
    for (const share of [0.1, 0.25, 0.5, 0.8, 1]) {
      const m = new DutyMeter();
      for (let i = 0; i < 50; i++) {
        const busy = 0.001 + rand() * 0.2;
        m.add(busy, idleAfter(busy, share));
      }
      expect(Math.abs(m.share - share)).toBeLessThan(1e-9);
    }
  });
  it('clamps the share to [0.1, 1] and never idles for a zero-length step', () => {
    expect(clampShare(0)).toBe(0.1);
    expect(clampShare(5)).toBe(1);
    expect(clampShare(Number.NaN)).toBe(1);
    expect(idleAfter(0, 0.5)).toBe(0);
    expect(idleAfter(1, 1)).toBe(0);
  });
});
