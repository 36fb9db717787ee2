/**
 * The message wire under a bulk channel: an ordered, reliable, message-based link with a send
 * buffer (an RTCDataChannel, here reached through simple-peer), plus an in-memory pair for tests
 * that models the send buffer (bufferedAmount drains at a set rate, and a wire whose buffer
 * passes `hardLimitBytes` fails like Chromium's "send queue is full").
 *
 * What this file is not: framing or acks (channel.ts) or signalling (simple-peer.ts).
 */
import { BulkChannelClosedError } from './errors.ts';

export interface BulkWire {
  /** Queue one message (at most BULK_MAX_MESSAGE_BYTES). It must copy `data` before returning
   *  (RTCDataChannel.send does): the channel reuses one buffer for every frame. Throws
   *  BulkChannelClosedError when closed. */
  send(data: Uint8Array): void;
  /** Bytes queued and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Resolves once bufferedAmount <= `bytes`, or the wire closed. */
  waitBelow(bytes: number): Promise<void>;
  onMessage(cb: (data: Uint8Array) => void): void;
  /** Called once when the wire closes, with the reason if it failed. */
  onClose(cb: (err?: Error) => void): void;
  readonly closed: boolean;
  close(err?: Error): void;
}

/** Minimal RTCDataChannel surface used by dataChannelWire (a real RTCDataChannel fits). */
export interface DataChannelLike {
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType: string;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(): void;
  addEventListener(type: string, cb: (ev: Event) => void, opts?: { once?: boolean }): void;
  removeEventListener(type: string, cb: (ev: Event) => void): void;
}

/**
 * A wire over an open RTCDataChannel. Messages are read with our own 'message' listener
 * (`deliver` lets a wrapper such as simple-peer's 'data' event feed them instead).
 */
export class DataChannelWire implements BulkWire {
  private msgCb: ((d: Uint8Array) => void) | undefined;
  private readonly closeCbs: ((err?: Error) => void)[] = [];
  private isClosed = false;
  private readonly lowWaiters = new Set<() => void>();

  constructor(
    readonly channel: DataChannelLike,
    opts: { listen?: boolean } = {},
  ) {
    channel.binaryType = 'arraybuffer';
    if (opts.listen ?? true) channel.addEventListener('message', (e) => this.deliver(new Uint8Array((e as MessageEvent).data as ArrayBuffer)));
    channel.addEventListener('bufferedamountlow', () => this.wake());
    channel.addEventListener('close', () => this.close());
    channel.addEventListener('error', (e) => this.close(new BulkChannelClosedError(`data channel error: ${(e as { error?: Error }).error?.message ?? 'unknown'}`)));
  }

  get bufferedAmount(): number {
    return this.channel.bufferedAmount;
  }

  get closed(): boolean {
    return this.isClosed || this.channel.readyState !== 'open';
  }

  deliver(d: Uint8Array): void {
    if (!this.isClosed) this.msgCb?.(d);
  }

  send(data: Uint8Array): void {
    if (this.closed) throw new BulkChannelClosedError('bulk channel is closed');
    this.channel.send(data as Uint8Array<ArrayBuffer>);
  }

  waitBelow(bytes: number): Promise<void> {
    if (this.closed || this.channel.bufferedAmount <= bytes) return Promise.resolve();
    this.channel.bufferedAmountLowThreshold = bytes;
    return new Promise((ok) => {
      const w = () => {
        if (this.closed || this.channel.bufferedAmount <= bytes) {
          this.lowWaiters.delete(w);
          ok();
        }
      };
      this.lowWaiters.add(w);
    });
  }

  onMessage(cb: (data: Uint8Array) => void): void {
    this.msgCb = cb;
  }

  onClose(cb: (err?: Error) => void): void {
    if (this.isClosed) queueMicrotask(() => cb());
    else this.closeCbs.push(cb);
  }

  close(err?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.channel.readyState === 'open' || this.channel.readyState === 'connecting') this.channel.close();
    this.wake();
    for (const cb of this.closeCbs.splice(0)) cb(err);
  }

  private wake(): void {
    for (const w of [...this.lowWaiters]) w();
  }
}

export interface MemoryWireOptions {
  /** Bytes the wire moves per drain tick (setTimeout 0); default 256 KiB. */
  bytesPerTick?: number;
  /** A send that would take bufferedAmount above this fails and closes the wire (like
   *  Chromium's "RTCDataChannel send queue is full"); default 16 MiB. */
  hardLimitBytes?: number;
}

/** One end of an in-memory wire pair (tests). */
export class MemoryWire implements BulkWire {
  peer!: MemoryWire;
  /** Highest bufferedAmount seen (tests check backpressure with it). */
  maxBuffered = 0;
  sentMessages = 0;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private msgCb: ((d: Uint8Array) => void) | undefined;
  private readonly closeCbs: ((err?: Error) => void)[] = [];
  private isClosed = false;
  private pumping = false;
  private readonly lowWaiters = new Set<() => void>();

  constructor(private readonly opts: Required<MemoryWireOptions>) {}

  get bufferedAmount(): number {
    return this.queued;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  send(data: Uint8Array): void {
    if (this.isClosed) throw new BulkChannelClosedError('bulk channel is closed');
    if (this.queued + data.length > this.opts.hardLimitBytes) {
      const e = new BulkChannelClosedError(`send queue is full (${this.queued + data.length} > ${this.opts.hardLimitBytes} bytes)`);
      this.close(e);
      throw e;
    }
    this.queue.push(data.slice());
    this.queued += data.length;
    this.sentMessages++;
    this.maxBuffered = Math.max(this.maxBuffered, this.queued);
    this.pump();
  }

  waitBelow(bytes: number): Promise<void> {
    if (this.isClosed || this.queued <= bytes) return Promise.resolve();
    return new Promise((ok) => {
      const w = () => {
        if (this.isClosed || this.queued <= bytes) {
          this.lowWaiters.delete(w);
          ok();
        }
      };
      this.lowWaiters.add(w);
    });
  }

  onMessage(cb: (data: Uint8Array) => void): void {
    this.msgCb = cb;
  }

  onClose(cb: (err?: Error) => void): void {
    if (this.isClosed) queueMicrotask(() => cb());
    else this.closeCbs.push(cb);
  }

  /** Closing one end closes both (like a data channel). */
  close(err?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.queue = [];
    this.queued = 0;
    for (const w of [...this.lowWaiters]) w();
    for (const cb of this.closeCbs.splice(0)) cb(err);
    this.peer.close(err ? new BulkChannelClosedError(`remote end failed: ${err.message}`) : undefined);
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    setTimeout(() => {
      this.pumping = false;
      let budget = this.opts.bytesPerTick;
      while (!this.isClosed && this.queue.length > 0 && budget > 0) {
        const m = this.queue.shift()!;
        this.queued -= m.length;
        budget -= m.length;
        this.peer.receive(m);
      }
      for (const w of [...this.lowWaiters]) w();
      if (this.queue.length > 0) this.pump();
    }, 0);
  }

  private receive(m: Uint8Array): void {
    if (!this.isClosed) this.msgCb?.(m);
  }
}

/** Two connected in-memory wires. */
export function memoryWirePair(opts: MemoryWireOptions = {}): [MemoryWire, MemoryWire] {
  const o = { bytesPerTick: opts.bytesPerTick ?? 256 * 1024, hardLimitBytes: opts.hardLimitBytes ?? 16 * 1024 * 1024 };
  const a = new MemoryWire(o);
  const b = new MemoryWire(o);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
