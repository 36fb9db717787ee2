/** A promise that resolves after `ms` milliseconds (negative: at the next timer turn). One copy
 *  for peer-core instead of one per module. */
export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
