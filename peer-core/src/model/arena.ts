/**
 * Many named tensors allocated once: activation and scratch buffers of a stage are carved
 * out of a single backend tensor with every view's offset aligned to VIEW_ALIGN_ELEMENTS, so a
 * GPU backend binds them by offset and a step allocates nothing new; or, where the backend's
 * `activationLayout` is 'separate' (webgpu), each reservation is an allocation of its own.
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

  /**
   * Allocates the arena; `views[i]` is the tensor of reservation i, `roots` what to free
   * (one root, or one per reservation with the 'separate' layout).
   */
  build(backend: Backend): { roots: Tensor[]; views: Tensor[] } {
    if (this.total === 0) return { roots: [], views: [] };
    if (backend.activationLayout === 'separate') {
      const views = this.entries.map((e) => backend.alloc(e.length, this.dtype));
      return { roots: views, views };
    }
    const root = backend.alloc(this.total, this.dtype);
    return { roots: [root], views: this.entries.map((e) => backend.view(root, e.offset, e.length)) };
  }
}
