/**
 * An in-memory duplex byte-stream pair with libp2p 3 stream semantics (send() returns false
 * above a high-water mark, onDrain(), close() ends the writer's side, abort() fails both).
 * For tests of the tensor transport without a network. Optionally re-splits every write into
 * random pieces, like a real transport would.
 */
import type { ByteStream } from './stream.ts';

export interface MemoryStreamInit {
  /** Unread bytes on the far side above which send() returns false; default 1 MiB. */
  highWaterBytes?: number;
  /** Split each write into pieces of at most this many bytes (random sizes); default no split. */
  maxPieceBytes?: number;
  /** Random source for the splits (default Math.random). */
  random?: () => number;
}

class Side implements ByteStream {
  peer!: Side;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private error: Error | undefined;
  private readers: (() => void)[] = [];
  private drainers: (() => void)[] = [];
  writeClosed = false;

  constructor(private readonly init: Required<Omit<MemoryStreamInit, 'maxPieceBytes'>> & { maxPieceBytes?: number }) {}

  send(data: Uint8Array): boolean {
    if (this.error) throw this.error;
    if (this.writeClosed) throw new Error('stream closed for writing');
    const max = this.init.maxPieceBytes;
    if (!max || data.length <= 1) this.peer.deliver(data.slice());
    else {
      let off = 0;
      while (off < data.length) {
        const n = Math.max(1, Math.min(data.length - off, Math.floor(this.init.random() * max) + 1));
        this.peer.deliver(data.slice(off, off + n));
        off += n;
      }
    }
    return this.peer.queued <= this.init.highWaterBytes;
  }

  onDrain(options?: { signal?: AbortSignal }): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.peer.queued <= this.init.highWaterBytes) return Promise.resolve();
    return new Promise((ok, fail) => {
      this.peer.drainers.push(ok);
      options?.signal?.addEventListener('abort', () => fail(options.signal?.reason), { once: true });
    });
  }

  async close(): Promise<void> {
    if (this.writeClosed) return;
    this.writeClosed = true;
    this.peer.ended = true;
    this.peer.wake();
  }

  abort(err: Error): void {
    this.fail(err);
    this.peer.fail(err);
  }

  private fail(err: Error): void {
    if (this.error) return;
    this.error = err;
    this.wake();
    for (const d of this.drainers.splice(0)) d();
  }

  private deliver(b: Uint8Array): void {
    if (this.error) return;
    this.queue.push(b);
    this.queued += b.length;
    this.wake();
  }

  private wake(): void {
    for (const r of this.readers.splice(0)) r();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.error) throw this.error;
      const b = this.queue.shift();
      if (b) {
        this.queued -= b.length;
        if (this.queued <= this.init.highWaterBytes) for (const d of this.drainers.splice(0)) d();
        yield b;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => this.readers.push(r));
    }
  }
}

/** Two connected ends: what one sends, the other reads. */
export function memoryStreamPair(init: MemoryStreamInit = {}): [ByteStream, ByteStream] {
  const cfg = { highWaterBytes: init.highWaterBytes ?? 1024 * 1024, maxPieceBytes: init.maxPieceBytes, random: init.random ?? Math.random };
  const a = new Side(cfg);
  const b = new Side(cfg);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
