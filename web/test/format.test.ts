import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatNumber, formatRate, shortId } from '../src/lib/format.ts';

describe('format', () => {
  it('bytes use decimal units with sensible digits', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.50 KB');
    expect(formatBytes(12_345_678)).toBe('12.3 MB');
    expect(formatBytes(Number.NaN)).toBe('—');
    expect(formatRate(2_000_000)).toBe('2.00 MB/s');
  });
  it('numbers keep 3 significant digits and group thousands', () => {
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(0.012345)).toBe('0.0123');
    expect(formatNumber(4.56789)).toBe('4.57');
    expect(formatNumber(null)).toBe('—');
  });
  it('durations', () => {
    expect(formatDuration(4.24)).toBe('4.2 s');
    expect(formatDuration(65)).toBe('1 min 05 s');
    expect(formatDuration(3725)).toBe('1 h 02 min');
  });
  it('short ids', () => {
    expect(shortId('12D3KooWabcdefghijklmnop')).toBe('12D3KooWab…mnop');
    expect(shortId('abc')).toBe('abc');
  });
});
