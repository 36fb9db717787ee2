/**
 * BufferPool: reuses storage buffers so that a steady-state training step creates none.
 *
 * Buffers are bucketed by size class (sizes rounded up to a power of two below 1 MiB and to a
 * multiple of 1 MiB above). `acquire` returns a free buffer of the class or creates one;
 * `release` returns it. Reuse is safe on one queue: WebGPU runs the commands of a queue in
 * order, so a buffer released after recording its last use and re-acquired by a later
 * kernel is only overwritten after the earlier use has executed (the stream-ordered rule of
 * a caching allocator). Contents of an acquired buffer are undefined.
 *
 * Not here: the model's long-lived tensors (the backend allocates those once).
 */

const MiB = 1 << 20;

export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes));
  if (b <= MiB) return 2 ** Math.ceil(Math.log2(b));
  return Math.ceil(b / MiB) * MiB;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly owned = new Set<GPUBuffer>();
  /** Buffers created over the pool's life (a steady state leaves this unchanged). */
  created = 0;

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number, label = 'pool'): GPUBuffer {
    const cls = sizeClass(bytes);
    const list = this.free.get(cls);
    const hit = list?.pop();
    if (hit) return hit;
    const buf = this.device.createBuffer({
      label: `${label}[${cls}]`,
      size: cls,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.created++;
    this.owned.add(buf);
    return buf;
  }

  release(buf: GPUBuffer): void {
    if (!this.owned.has(buf)) throw new Error('BufferPool.release: buffer was not acquired from this pool');
    const cls = buf.size;
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = []));
    if (list.includes(buf)) throw new Error('BufferPool.release: buffer released twice');
    list.push(buf);
  }

  /** Bytes held by the pool (in use and free). */
  get bytes(): number {
    let n = 0;
    for (const b of this.owned) n += b.size;
    return n;
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.clear();
    this.free.clear();
  }
}
