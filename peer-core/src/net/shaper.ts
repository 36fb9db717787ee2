/**
 * Per-link traffic shaping for WAN emulation on one machine: a token bucket (bandwidth with a
 * burst allowance) plus a fixed one-way delay. The sender of a tensor waits `delayMs` before
 * its first frame and takes tokens for every frame; on a per-tensor stream this gives the same
 * arrival time of the last byte as a pipelined delay line (delay + bytes / rate).
 * What it is not: packet loss or jitter emulation.
 */
import { sleep } from '../util/sleep.ts';

export interface LinkShape {
  /** Sustained rate in bytes per second; undefined or 0 = unlimited. */
  bytesPerSecond?: number;
  /** Bucket size in bytes (burst allowance); default 64 KiB. */
  burstBytes?: number;
  /** One-way delay added before each tensor (ms); default 0. */
  delayMs?: number;
}


/** Classic token bucket; `take(n)` resolves when n bytes may go (tokens may go negative once). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(rate > 0)) throw new RangeError(`token bucket rate must be > 0, got ${rate}`);
    if (!(burst > 0)) throw new RangeError(`token bucket burst must be > 0, got ${burst}`);
    this.tokens = burst;
    this.last = now();
  }

  /** Milliseconds to wait before `n` bytes may be sent; books the bytes. */
  reserve(n: number): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }

  async take(n: number): Promise<void> {
    const wait = this.reserve(n);
    if (wait > 0) await sleep(wait);
  }
}

/** Shaper of one directed link (this peer -> one remote peer). */
export class LinkShaper {
  readonly bucket: TokenBucket | undefined;
  readonly delayMs: number;

  constructor(shape: LinkShape = {}) {
    this.delayMs = Math.max(0, shape.delayMs ?? 0);
    this.bucket = shape.bytesPerSecond ? new TokenBucket(shape.bytesPerSecond, shape.burstBytes ?? 64 * 1024) : undefined;
  }

  /** True when this shaper changes nothing. */
  get passthrough(): boolean {
    return !this.bucket && this.delayMs === 0;
  }

  async beforeMessage(): Promise<void> {
    if (this.delayMs > 0) await sleep(this.delayMs);
  }

  async beforeBytes(n: number): Promise<void> {
    if (this.bucket) await this.bucket.take(n);
  }
}
