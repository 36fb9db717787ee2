/**
 * ByteLedger: every byte a peer sends or receives, counted per remote peer, per step and per
 * message kind (frame bytes, header included). Transports record into it; benchmarks and the
 * dashboard read totals from it.
 */
import type { MessageKind } from './frame.ts';

export type Direction = 'sent' | 'received';

export interface LedgerEntry {
  dir: Direction;
  peer: string;
  step: number;
  kind: MessageKind;
  bytes: number;
  messages: number;
}

export interface LedgerQuery {
  dir?: Direction;
  peer?: string;
  step?: number;
  kind?: MessageKind;
}

export class ByteLedger {
  private readonly entries = new Map<string, LedgerEntry>();

  record(dir: Direction, peer: string, step: number, kind: MessageKind, bytes: number): void {
    const key = `${dir}\u0000${peer}\u0000${step}\u0000${kind}`;
    const e = this.entries.get(key);
    if (e) {
      e.bytes += bytes;
      e.messages += 1;
    } else this.entries.set(key, { dir, peer, step, kind, bytes, messages: 1 });
  }

  /** All entries matching `q` (a copy). */
  list(q: LedgerQuery = {}): LedgerEntry[] {
    const out: LedgerEntry[] = [];
    for (const e of this.entries.values()) {
      if (q.dir !== undefined && e.dir !== q.dir) continue;
      if (q.peer !== undefined && e.peer !== q.peer) continue;
      if (q.step !== undefined && e.step !== q.step) continue;
      if (q.kind !== undefined && e.kind !== q.kind) continue;
      out.push({ ...e });
    }
    return out;
  }

  total(q: LedgerQuery = {}): { bytes: number; messages: number } {
    let bytes = 0;
    let messages = 0;
    for (const e of this.list(q)) {
      bytes += e.bytes;
      messages += e.messages;
    }
    return { bytes, messages };
  }

  /** Totals grouped by one field. */
  by(field: 'peer' | 'step' | 'kind', q: LedgerQuery = {}): Map<string | number, { bytes: number; messages: number }> {
    const out = new Map<string | number, { bytes: number; messages: number }>();
    for (const e of this.list(q)) {
      const k = e[field];
      const t = out.get(k) ?? { bytes: 0, messages: 0 };
      t.bytes += e.bytes;
      t.messages += e.messages;
      out.set(k, t);
    }
    return out;
  }
}
