/**
 * The libp2p node a SwarmNode runs on: its transports (WebSockets to the relay, the circuit relay
 * transport, WebRTC), noise, yamux, the connection limits and monitor, discovery, and the
 * identify and gossipsub services, each setting with the measurement that chose it.
 *
 * What it is not: the SwarmNode (swarm-node.ts) that starts it, dials and handles its protocols.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { type GossipSub, gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { PrivateKey } from '@libp2p/interface';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { createLibp2p, type Libp2p } from 'libp2p';
import { GOSSIP_SCORE_PARAMS, NET_DEFAULTS } from './constants.ts';
import type { adaptiveDiscovery } from './discovery.ts';
import { STREAM_DEFAULTS } from './stream.ts';

/** The services a SwarmNode's libp2p node runs. */
export type SwarmServices = { identify: unknown; pubsub: GossipSub };

export interface SwarmLibp2pInit {
  /** The node's identity (default: a new key). */
  privateKey?: PrivateKey;
  /** WebRTC data channel options over the defaults (SwarmNodeInit.dataChannel). */
  dataChannel?: { maxMessageSize?: number; maxBufferedAmount?: number };
  /** The peer discovery (SwarmNode's adaptiveDiscovery, discovery.ts). */
  discovery: ReturnType<typeof adaptiveDiscovery>;
}

/** Create (and start) the libp2p node of a SwarmNode. */
export function createSwarmLibp2p(init: SwarmLibp2pInit): Promise<Libp2p<SwarmServices>> {
  return createLibp2p({
    ...(init.privateKey ? { privateKey: init.privateKey } : {}),
    addresses: { listen: ['/p2p-circuit', '/webrtc'] },
    transports: [
      webSockets(),
      webRTC({
        rtcConfiguration: { iceServers: [] },
        dataChannel: { maxBufferedAmount: NET_DEFAULTS.maxBufferedAmount, maxMessageSize: STREAM_DEFAULTS.maxMessageSize, openTimeout: NET_DEFAULTS.streamOpenTimeoutMs, ...init.dataChannel },
      }),
      circuitRelayTransport({ reservationCompletionTimeout: NET_DEFAULTS.reservationTimeoutMs }),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The browser default refuses private and loopback addresses: a LAN swarm needs them.
    connectionGater: { denyDialMultiaddr: () => false },
    // libp2p's connection monitor opens a ping stream on every connection every 10 s (a new
    // data channel on WebRTC) and by default ABORTS the connection when the answer takes over
    // 5 s: on a CPU-starved page that killed direct links and the relay connection (and with
    // it the reservation: the peer could no longer be dialled). With a 20 s floor it still
    // reaps dead and half-open connections (left by timed-out dials) but not slow ones; a lost
    // relay connection is re-dialled (relay-link.ts RelayLink.reconnect).
    connectionMonitor: { pingTimeout: { minTimeout: NET_DEFAULTS.pingTimeoutMs } },
    connectionManager: {
      inboundConnectionThreshold: 1000,
      maxIncomingPendingConnections: 256,
      inboundStreamProtocolNegotiationTimeout: NET_DEFAULTS.streamOpenTimeoutMs,
      outboundStreamProtocolNegotiationTimeout: NET_DEFAULTS.streamOpenTimeoutMs,
    },
    peerDiscovery: [init.discovery],
    services: {
      // Not on limited (relayed) connections: a circuit only carries the WebRTC signalling
      // (and, as a fallback, tensors); identify there cost each dial a protobuf exchange and a
      // signature check on CPU-starved pages while a mesh formed (docs/NETWORK.md).
      identify: identify({ runOnLimitedConnection: false }),
      // No IP colocation penalty (GOSSIP_SCORE_PARAMS): every peer reached through the relay or
      // dialled over a circuit shows the relay's IP, so a swarm of > 10 graylisted everyone.
      // Not on limited (relayed) connections: our relay marks every circuit as limited, and
      // gossip then flows over the relay connection and the direct links only. On circuits,
      // each message crossed the relay once per circuit, noise-encrypted twice, and in a
      // 16-page swarm that traffic queued the relay connections' circuit set-up messages
      // for 3-10 s (docs/NETWORK.md, "16 peers").
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, runOnLimitedConnection: false, emitSelf: false, scoreParams: GOSSIP_SCORE_PARAMS }),
    },
  });
}
