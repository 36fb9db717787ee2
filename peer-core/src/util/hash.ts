/**
 * FNV-1a, 32-bit, over a string's UTF-16 code units: the one small stable hash behind job wire
 * ids (runtime/transport.ts `wireJobId`), per-peer seeds and codec keys. Not cryptographic.
 */
export function fnv1a32(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
