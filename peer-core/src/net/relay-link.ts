/**
 * The link of one SwarmNode to its relay(s): which relays (their multiaddrs and peer ids), the
 * first dial with retries (relayDialAttempts, 1 s apart), and the re-dial of a lost relay
 * connection (reconnect(): back-off 0.5 s doubling, at most 30 s, 10 tries), so the peer gets
 * its reservation back and stays dialable. Also fetchRelayInfo, which asks a relay's HTTP
 * server for its multiaddrs.
 *
 * What it is not: the reservation wait or the libp2p node's lifecycle (SwarmNode.start/stop),
 * the relay server (relay/), or the roster it publishes (heartbeats.ts onRoster).
 */
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import type { Libp2p } from 'libp2p';
import { NET_DEFAULTS } from './constants.ts';
import { RelayConnectError } from './errors.ts';
import { sleep } from '../util/sleep.ts';

/** Ask a relay's HTTP server (`/api/relay`) for its multiaddrs. */
export async function fetchRelayInfo(httpUrl: string): Promise<{ peerId: string; multiaddrs: string[] }> {
  const r = await fetch(new URL('/api/relay', httpUrl));
  if (!r.ok) throw new RelayConnectError(`GET /api/relay on ${httpUrl}: HTTP ${r.status}`);
  const j = (await r.json()) as { peerId?: unknown; multiaddrs?: unknown };
  if (typeof j.peerId !== 'string' || !Array.isArray(j.multiaddrs)) throw new RelayConnectError(`bad /api/relay answer from ${httpUrl}`);
  return { peerId: j.peerId, multiaddrs: j.multiaddrs.map(String) };
}

export interface RelayLinkInit {
  /** Relay multiaddr(s) with /p2p/<id> (SwarmNodeInit.relay). */
  relay: string | string[];
  /** The libp2p node while it runs (undefined before start and after stop). */
  node(): Libp2p | undefined;
  /** Counters, updated in place (SwarmNodeStats.relayReconnects). */
  stats: { relayReconnects: number };
  /** A lost relay connection was dialled again (SwarmNode: the 'relay:reconnect' event). */
  onReconnect(attempt: number): void;
}


export class RelayLink {
  /** The relays' multiaddrs (after parse()). */
  addrs: Multiaddr[] = [];
  /** The relays' peer ids (after parse()). */
  readonly ids = new Set<string>();
  /** A re-dial in progress (reconnect). */
  private redial: Promise<void> | undefined;

  constructor(private readonly init: RelayLinkInit) {}

  /** Parse the relay addresses; each must end in /p2p/<peer id> (RelayConnectError). */
  parse(): void {
    this.addrs = (Array.isArray(this.init.relay) ? this.init.relay : [this.init.relay]).map((a) => multiaddr(a));
    for (const a of this.addrs) {
      const id = a.getComponents().findLast((c) => c.name === 'p2p')?.value;
      if (!id) throw new RelayConnectError(`relay address ${a} has no /p2p/<peer id>`);
      this.ids.add(id);
    }
  }

  /**
   * The first dial of `node` to any relay: up to NET_DEFAULTS.relayDialAttempts attempts, 1 s
   * apart. Gives up early when `node` is no longer the running one (stopped meanwhile). Throws
   * RelayConnectError with every attempt's errors; the caller stops the node.
   */
  async dialFirst(node: Libp2p): Promise<void> {
    const failures: string[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        await Promise.any(this.addrs.map((a) => node.dial(a, { signal: AbortSignal.timeout(NET_DEFAULTS.reservationTimeoutMs) })));
        return;
      } catch (e) {
        failures.push(`attempt ${attempt}: ${(e as AggregateError).errors?.map(String).join('; ') ?? e}`);
        if (attempt >= NET_DEFAULTS.relayDialAttempts || this.init.node() !== node) {
          throw new RelayConnectError(`could not dial the relay (${this.addrs.join(', ')}): ${failures.join(' | ')}`);
        }
        await sleep(1_000);
      }
    }
  }

  /**
   * The connection to the relay closed: dial it again (back-off 0.5 s doubling, at most 30 s, 10
   * tries), so this peer gets its reservation back and stays dialable. Without it a peer whose
   * relay connection dropped could never be reached by a new dial (NO_RESERVATION).
   */
  reconnect(): void {
    if (this.redial || !this.init.node()) return;
    const hasRelay = () => this.init.node()?.getConnections().some((c) => c.status === 'open' && this.ids.has(c.remotePeer.toString())) ?? false;
    this.redial = (async () => {
      for (let k = 0; k < 10; k++) {
        await sleep(Math.min(30_000, 500 * 2 ** k));
        const node = this.init.node();
        if (!node || hasRelay()) return;
        try {
          await Promise.any(this.addrs.map((a) => node.dial(a, { signal: AbortSignal.timeout(NET_DEFAULTS.reservationTimeoutMs) })));
          this.init.stats.relayReconnects++;
          this.init.onReconnect(k + 1);
          return;
        } catch {
          // try again after the next back-off
        }
      }
    })().finally(() => {
      this.redial = undefined;
    });
  }
}
