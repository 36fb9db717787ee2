/**
 * One allocation, many named views: activation and scratch buffers of a stage are carved
 * out of a single backend tensor with every view's offset aligned to VIEW_ALIGN_ELEMENTS, so a
 * GPU backend binds them by offset and a step allocates nothing new.
 */
import type { Backend, DType, Tensor } from '../backend/types.ts';
import { alignUp } from './layout.ts';

export class ArenaBuilder {
  private readonly entries: Array<{ length: number; offset: number }> = [];
  private total = 0;
  constructor(readonly dtype: DType = 'f32') {}

  /** Reserves `length` elements; returns a handle to pass to `build()`'s result. */
  reserve(length: number): number {
    const offset = this.total;
    this.entries.push({ length, offset });
    this.total = alignUp(offset + Math.max(length, 1));
    return this.entries.length - 1;
  }

  /** Allocates the arena; `views[i]` is the view of reservation i. */
  build(backend: Backend): { root: Tensor | null; views: Tensor[] } {
    if (this.total === 0) return { root: null, views: [] };
    const root = backend.alloc(this.total, this.dtype);
    return { root, views: this.entries.map((e) => backend.view(root, e.offset, e.length)) };
  }
}
