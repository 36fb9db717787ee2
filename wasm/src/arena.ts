/**
 * The tensor arena: a first-fit allocator over the module's linear memory, in JS. Tensors are
 * 64-byte-aligned byte offsets; freed blocks are coalesced, and memory grows (in 64 KiB pages)
 * when no free block fits. Growing detaches earlier typed-array views of `memory.buffer`, so
 * callers take views per use (see `WasmKernels.f32`). It is NOT thread-safe and does not zero.
 */
import { WasmOutOfMemoryError } from './errors.ts';

export const ALIGN = 64;
const PAGE = 65536;

interface Block {
  off: number;
  size: number;
}

export class Arena {
  /** Free blocks below `top`, sorted by offset, never adjacent (coalesced). */
  private free: Block[] = [];
  private live = new Map<number, number>();
  private top: number;

  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = roundUp(base, ALIGN);
  }

  /** Bytes held by live tensors. */
  get bytesInUse(): number {
    let s = 0;
    for (const v of this.live.values()) s += v;
    return s;
  }

  /** Current size of linear memory in bytes. */
  get capacity(): number {
    return this.memory.buffer.byteLength;
  }

  /** Size in bytes of the live block at `off`, or undefined when none starts there. */
  sizeOf(off: number): number | undefined {
    return this.live.get(off);
  }

  alloc(bytes: number): number {
    const size = Math.max(ALIGN, roundUp(bytes, ALIGN));
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.size < size) continue;
      const off = b.off;
      if (b.size === size) this.free.splice(i, 1);
      else {
        b.off += size;
        b.size -= size;
      }
      this.live.set(off, size);
      return off;
    }
    const off = this.top;
    const end = off + size;
    if (end > this.memory.buffer.byteLength) {
      const pages = Math.ceil((end - this.memory.buffer.byteLength) / PAGE);
      try {
        this.memory.grow(pages);
      } catch (e) {
        throw new WasmOutOfMemoryError(`cannot grow wasm memory by ${pages} pages to ${end} bytes: ${(e as Error).message}`);
      }
    }
    this.top = end;
    this.live.set(off, size);
    return off;
  }

  release(off: number): void {
    const size = this.live.get(off);
    if (size === undefined) return;
    this.live.delete(off);
    // insert sorted, then coalesce with neighbours
    let i = 0;
    while (i < this.free.length && this.free[i]!.off < off) i++;
    this.free.splice(i, 0, { off, size });
    if (i + 1 < this.free.length && off + size === this.free[i + 1]!.off) {
      this.free[i]!.size += this.free[i + 1]!.size;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1]!.off + this.free[i - 1]!.size === off) {
      this.free[i - 1]!.size += this.free[i]!.size;
      this.free.splice(i, 1);
      i--;
    }
    // a free block that reaches the top gives its space back to the top
    const last = this.free[this.free.length - 1];
    if (last && last.off + last.size === this.top) {
      this.top = last.off;
      this.free.pop();
    }
  }
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
