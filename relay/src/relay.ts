/**
 * startRelay: the relay process. Two servers in one process:
 *  - a js-libp2p 3 node: WebSockets listener, noise + yamux, identify, ping, circuit relay v2
 *    server (limits sized for a swarm), gossipsub and pubsub peer discovery. Browser peers
 *    dial it, reserve a slot, find each other through it and then upgrade to direct WebRTC;
 *    training traffic never flows through it (relayed connections are only a fallback);
 *  - the HTTP server: the built web app, `/api/health`, `/api/metrics` (real numbers from the
 *    libp2p node) and `/api/relay` (this relay's peer id and multiaddrs, so a page finds the
 *    relay from its own origin).
 * The identity key lives in `<dataDir>/identity.key` (protobuf, mode 0600), so the relay's
 * multiaddr survives restarts.
 *
 * What it is not: a training participant, a TURN server, or a store of training data.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayServer, type CircuitRelayService, RELAY_V2_HOP_CODEC } from '@libp2p/circuit-relay-v2';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { PrivateKey } from '@libp2p/interface';
import { ping } from '@libp2p/ping';
import { pubsubPeerDiscovery } from '@libp2p/pubsub-peer-discovery';
import { webSockets } from '@libp2p/websockets';
import { createLibp2p, type Libp2p } from 'libp2p';
import { type RunningHttpServer, startHttpServer } from './http.ts';
import { JobStore } from './jobs.ts';

export interface RelayInit {
  /** Interface to bind (HTTP and libp2p WebSockets); default 127.0.0.1 (never exposed unless asked). */
  host?: string;
  /** HTTP port; default 8080, 0 picks a free port. */
  httpPort?: number;
  /** libp2p WebSockets port; default 9090, 0 picks a free port. */
  wsPort?: number;
  /** Folder of persistent state (identity key, jobs); default .swarmgrad-data/relay */
  dataDir?: string;
  /** Built web app to serve; default web/dist of this repository. */
  webDir?: string;
  /** Extra multiaddrs to announce (e.g. a public `/dns4/relay.example/tcp/443/wss`). */
  announce?: string[];
  /** Circuit relay reservations held at once; default 1024 (libp2p default: 15). */
  maxReservations?: number;
  /** Pubsub peer discovery interval of the relay (ms); default 10 000. */
  discoveryIntervalMs?: number;
  /** Roster period (ms; 0: off); default 1000. Every period the relay publishes, on the heartbeat
   *  topic, the ids of the peers that hold a reservation over an open connection to it. Peers
   *  count a listed member as alive and dial it as if discovered (peer-core SwarmNode): one
   *  signed message per period for the whole swarm, instead of one heartbeat per peer. */
  rosterIntervalMs?: number;
}

export const RELAY_DEFAULTS = {
  host: '127.0.0.1',
  httpPort: 8080,
  wsPort: 9090,
  dataDir: '.swarmgrad-data/relay',
  webDir: fileURLToPath(new URL('../../web/dist/', import.meta.url)),
  announce: [] as string[],
  maxReservations: 1024,
  discoveryIntervalMs: 10_000,
  rosterIntervalMs: 1_000,
  /** Inbound connections per IP per second. libp2p's default of 5 refuses the 6th browser
   *  page of one machine starting at once (all come from the same IP). */
  inboundConnectionThreshold: 1000,
  maxIncomingPendingConnections: 256,
  maxConnections: 2048,
} as const;

/** The limit every relayed connection carries (see the circuit relay server below): 24 h and
 *  1 TiB, so that it marks the connection as limited without limiting anything real. */
export const RELAYED_CONNECTION_LIMIT = { durationMs: 24 * 3600 * 1000, bytes: 1n << 40n } as const;

/** Most peers one roster message lists (same value as peer-core's MAX_ROSTER_PEERS). */
export const MAX_ROSTER_PEERS = 4096;

/** Gossipsub topic of SwarmNode heartbeats (same value as peer-core's HEARTBEAT_TOPIC). */

export const SWARM_HEARTBEAT_TOPIC = 'swarmgrad/heartbeat/1';

/** File name of the persistent identity inside the data dir. */
export const IDENTITY_FILE = 'identity.key';

export interface RelayInfo {
  peerId: string;
  multiaddrs: string[];
}

export interface RunningRelay {
  http: RunningHttpServer;
  /** The libp2p node (for tests and embedding). */
  libp2p: Libp2p<{ relay: CircuitRelayService }>;
  /** Peer id and WebSockets multiaddrs (with /p2p/<id>). */
  info(): RelayInfo;
  /** The numbers behind /api/metrics. */
  metrics(): Record<string, number>;
  /** Signed job announcements heard on the swarm or posted to /api/jobs (persisted). */
  jobs: JobStore;
  stop(): Promise<void>;
}

/** Load the relay's identity from `dataDir`, or create and save one (Ed25519). */
export async function loadOrCreateIdentity(dataDir: string): Promise<PrivateKey> {
  const file = join(resolve(dataDir), IDENTITY_FILE);
  if (existsSync(file)) return privateKeyFromProtobuf(new Uint8Array(readFileSync(file)));
  mkdirSync(resolve(dataDir), { recursive: true });
  const key = await generateKeyPair('Ed25519');
  writeFileSync(file, privateKeyToProtobuf(key), { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

function ipProto(host: string): string {
  if (host.includes(':')) return 'ip6';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return 'ip4';
  return 'dns4';
}

export async function startRelay(init: RelayInit = {}): Promise<RunningRelay> {
  const cfg = { ...RELAY_DEFAULTS, ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)) } as typeof RELAY_DEFAULTS & RelayInit;
  const privateKey = await loadOrCreateIdentity(cfg.dataDir);
  let connectionsOpened = 0;
  const node = await createLibp2p({
    privateKey,
    addresses: {
      listen: [`/${ipProto(cfg.host)}/${cfg.host}/tcp/${cfg.wsPort}/ws`],
      announce: cfg.announce,
    },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Peers of a test swarm (and of a LAN) come from private addresses: do not refuse them.
    connectionGater: { denyDialMultiaddr: () => false },
    // libp2p's connection monitor aborts a connection whose ping takes over 5 s; a CPU-starved
    // browser peer then lost its relay connection and its reservation (nobody could dial it).
    // Dead peers still go: their socket closes, or the ping fails for 30 s.
    connectionMonitor: { pingTimeout: { minTimeout: 30_000 } },
    connectionManager: {
      maxConnections: cfg.maxConnections,
      inboundConnectionThreshold: cfg.inboundConnectionThreshold,
      maxIncomingPendingConnections: cfg.maxIncomingPendingConnections,
    },
    // listenOnly: the relay forwards the discovery topic but never advertises itself.
    peerDiscovery: [pubsubPeerDiscovery({ interval: cfg.discoveryIntervalMs, listenOnly: true })],
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer({
        // Relayed connections carry a limit so that peers see them as limited (`Connection.limits`)
        // and keep gossipsub off them (peer-core/src/net/swarm-node.ts): gossip then goes over
        // the peers' relay connections (a star through the relay) and their direct links,
        // instead of every message crossing the relay once per circuit, noise-encrypted twice.
        // The limit itself is far above any use (libp2p's default of 2 min / 128 KiB is not):
        // a relayed connection is the fallback data path when WebRTC cannot be established,
        // and it carries WebRTC signalling for every direct upgrade.
        reservations: {
          maxReservations: cfg.maxReservations,
          applyDefaultLimit: true,
          defaultDurationLimit: RELAYED_CONNECTION_LIMIT.durationMs,
          defaultDataLimit: RELAYED_CONNECTION_LIMIT.bytes,
        },
        maxInboundHopStreams: 4 * cfg.maxReservations,
        maxOutboundStopStreams: 4 * cfg.maxReservations,
      }),
      // No IP colocation penalty: by default > 10 peers from one IP (one machine, one NAT) are
      // all graylisted and discovery stops (peer-core/src/net/constants.ts GOSSIP_SCORE_PARAMS).
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, runOnLimitedConnection: true, scoreParams: { IPColocationFactorWeight: 0 } }),
    },
  });
  // Forward SwarmNode heartbeats (peer-core/src/net/constants.ts HEARTBEAT_TOPIC) between peers
  // that have no direct connection yet: gossipsub relays only topics it is subscribed to.
  (node.services as unknown as { pubsub: { subscribe(t: string): void } }).pubsub.subscribe(SWARM_HEARTBEAT_TOPIC);
  node.addEventListener('connection:open', () => {
    connectionsOpened++;
  });
  await node.start();
  let rosterSize = 0;
  const pubsubApi = (node.services as unknown as { pubsub: { getSubscribers(t: string): unknown[]; publish(t: string, d: Uint8Array): Promise<unknown> } }).pubsub;
  const publishRoster = () => {
    const connected = new Set(node.getConnections().filter((c) => c.status === 'open').map((c) => c.remotePeer.toString()));
    const roster: string[] = [];
    for (const id of node.services.relay.reservations.keys()) {
      const s = id.toString();
      if (connected.has(s) && roster.length < MAX_ROSTER_PEERS) roster.push(s);
    }
    rosterSize = roster.length;
    if (!roster.length || !pubsubApi.getSubscribers(SWARM_HEARTBEAT_TOPIC).length) return;
    pubsubApi.publish(SWARM_HEARTBEAT_TOPIC, new TextEncoder().encode(JSON.stringify({ v: 1, roster }))).catch(() => {});
  };
  const rosterTimer = cfg.rosterIntervalMs > 0 ? setInterval(publishRoster, cfg.rosterIntervalMs) : undefined;
  const jobs = new JobStore({ dataDir: cfg.dataDir, pubsub: node.services.pubsub });
  await jobs.start();

  const info = (): RelayInfo => ({
    peerId: node.peerId.toString(),
    multiaddrs: node.getMultiaddrs().map(String),
  });
  const metrics = (): Record<string, number> => {
    const conns = node.getConnections();
    let hop = 0;
    let streams = 0;
    for (const c of conns) {
      streams += c.streams.length;
      for (const s of c.streams) if (s.protocol === RELAY_V2_HOP_CODEC) hop++;
    }
    const pubsub = (node.services as unknown as { pubsub: { getPeers(): unknown[]; getTopics(): string[] } }).pubsub;
    return {
      peers: node.getPeers().length,
      connections: conns.length,
      streams,
      relay_reservations: node.services.relay.reservations.size,
      relay_roster_peers: rosterSize,
      connections_opened_total: connectionsOpened,
      relay_hop_streams: hop,
      pubsub_peers: pubsub.getPeers().length,
      pubsub_topics: pubsub.getTopics().length,
      jobs: jobs.list().length,
      jobs_rejected_total: jobs.rejected,
    };
  };

  let http: RunningHttpServer;
  try {
    http = await startHttpServer({
      staticDir: cfg.webDir,
      host: cfg.host,
      port: cfg.httpPort,
      health: () => ({ relay: info().peerId, libp2p: node.status, peers: node.getPeers().length }),
      metrics,
      api: (req, res, url) => {
        if (url.pathname.startsWith('/api/jobs')) return jobs.handle(req, res, url);
        if (url.pathname !== '/api/relay') return false;
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
        res.end(JSON.stringify(info()));
        return true;
      },
    });
  } catch (e) {
    clearInterval(rosterTimer);
    jobs.stop();
    await node.stop();
    throw e;
  }
  return {
    http,
    libp2p: node,
    info,
    metrics,
    jobs,
    async stop() {
      clearInterval(rosterTimer);
      jobs.stop();
      await Promise.allSettled([http.close(), node.stop()]);
    },
  };
}
