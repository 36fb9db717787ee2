import { describe, expect, it } from 'vitest';
import { appendPoint, chartData, emptyColumns } from '../src/lib/history.ts';

describe('metrics history', () => {
  it('appends aligned columns with nulls for unmeasured metrics and merges same-step points', () => {
    let c = emptyColumns();
    c = appendPoint(c, { step: 1, trainLoss: 4 });
    c = appendPoint(c, { step: 2, trainLoss: 3.5, tokensPerSecond: 100 });
    c = appendPoint(c, { step: 2, heldoutLoss: 3.7 });
    c = appendPoint(c, { step: 1, trainLoss: 9 }); // out of order: dropped
    expect(chartData(c, ['trainLoss', 'heldoutLoss'])).toEqual([[1, 2], [4, 3.5], [null, 3.7]]);
    expect(c.tokensPerSecond).toEqual([null, 100]);
  });
  it('drops non-finite values and thins old points past the cap, keeping the newest', () => {
    let c = emptyColumns();
    for (let s = 0; s < 50; s++) c = appendPoint(c, { step: s, trainLoss: s === 3 ? Number.NaN : s }, 20);
    expect(c.step.length).toBeLessThanOrEqual(20);
    expect(c.step.at(-1)).toBe(49);
    expect(c.step).toEqual([...c.step].sort((a, b) => a - b));
    for (let i = 0; i < c.step.length; i++) expect(c.trainLoss[i]).toBe(c.step[i] === 3 ? null : c.step[i]);
  });
});
