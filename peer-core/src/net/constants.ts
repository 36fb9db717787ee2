/**
 * Defaults of Swarmgrad networking (SwarmNode and the tensor wire protocol). Every number a
 * caller can override lives here, with the reason it has this value.
 */

/** libp2p protocol of tensor transfers: one stream per tensor, frames then one ack. */
export const TENSOR_PROTOCOL = '/swarmgrad/tensor/1.0.0';
/** libp2p protocol of link probes (echo of a byte count, for RTT and throughput). */
export const PROBE_PROTOCOL = '/swarmgrad/probe/1.0.0';
/** libp2p protocol of capability records (request/response, JSON). */
export const CAPS_PROTOCOL = '/swarmgrad/caps/1.0.0';
/** Gossipsub topic of heartbeats (membership of peers without a direct connection). */
export const HEARTBEAT_TOPIC = 'swarmgrad/heartbeat/1';
/** libp2p protocol of heartbeats on direct connections: one long-lived stream per direction,
 *  newline-delimited JSON `{"v":1,"seq":n,"caps":{...}}`, each line at most 4 KiB. */
export const HEARTBEAT_PROTOCOL = '/swarmgrad/heartbeat/1.0.0';
/** Longest heartbeat line accepted. */
export const MAX_HEARTBEAT_BYTES = 4096;
/** Most peers a relay's roster lists (relay/src/relay.ts MAX_ROSTER_PEERS), and the largest
 *  roster message accepted (a peer id is ~52 characters in JSON). */
export const MAX_ROSTER_PEERS = 4096;
export const MAX_ROSTER_BYTES = 64 * MAX_ROSTER_PEERS;

/** Frame magic "SGTF" (Swarmgrad Tensor Frame): the protocol id inside every frame. */
export const FRAME_MAGIC = 0x46544753; // 'S','G','T','F' little-endian
/** Ready magic "SGTR": the receiver's first 4 bytes on a tensor stream. The sender waits for
 *  it before writing frames, so the receiver's reader is attached: a libp2p WebRTC stream has
 *  no receive window and resets a stream whose unread buffer passes 4 MiB. */
export const READY_MAGIC = 0x52544753;
/** Ack magic "SGTA". */
export const ACK_MAGIC = 0x41544753;
/** Wire version of the frame header; a receiver rejects any other with FrameVersionError. */
export const FRAME_VERSION = 1;
/** Fixed header bytes before the shape; the shape adds 4 bytes per dimension, then a header CRC32. */
export const FRAME_FIXED_HEADER_BYTES = 44;
/** Most dimensions a tensor may have. */
export const MAX_NDIM = 8;
/** Ack: magic u32, tensorId u32, status u8 (0 ok), 3 bytes padding, payload crc u32. */
export const ACK_BYTES = 16;

/**
 * Gossipsub peer-score parameters of SwarmNode and the relay: gossipsub's defaults except the IP
 * colocation penalty, which is off. By default more than 10 peers on one IP score
 * -5 * (n - 10)^2 each, all of them: at 15 peers -125, below the graylist threshold (-80), so
 * their messages (discovery, heartbeats, jobs) are dropped. In a swarm many peers share an IP
 * legitimately: the relay sees every peer of one machine, NAT, campus or home network at one
 * address, and a peer sees every peer that it reached over a circuit or dialled over WebRTC
 * through the relay at the relay's IP. This is what kept 6 of 16 browser peers from ever being
 * discovered (docs/NETWORK.md, "Mesh formation"). Gossipsub's other penalties stay on.
 */
export const GOSSIP_SCORE_PARAMS = { IPColocationFactorWeight: 0 } as const;

export const NET_DEFAULTS = {
  /** Payload bytes per frame. libp2p's WebRTC stream re-frames into 16 KiB messages anyway;
   *  a raw RTCDataChannel accepts messages up to 256 KiB. 64 KiB keeps headers < 0.1 %. */
  chunkBytes: 64 * 1024,
  /** Largest payload a receiver accepts in one frame (FrameTooLargeError above). */
  maxChunkBytes: 256 * 1024,
  /** Largest tensor (bytes on the wire) a receiver accepts. */
  maxTensorBytes: 512 * 1024 * 1024,
  /** Largest element count a shape may describe. */
  maxElements: 2 ** 31 - 1,
  /** Partially received tensors held at once per receiver (memory bound). */
  maxPendingTensors: 64,
  /** A tensor whose chunks stop arriving for this long is dropped (ms). */
  reassemblyTimeoutMs: 30_000,
  /** Heartbeat period (ms). */
  heartbeatIntervalMs: 1_000,
  /** A peer with no heartbeat for this long has left (ms). Detection latency of a closed
   *  peer is at most leaveTimeoutMs + heartbeatIntervalMs / 2 (the sweep period). */
  leaveTimeoutMs: 6_000,
  /** SwarmNode.stop() waits up to this long for its leave announcement to go out before it
   *  closes its connections (ms); members then drop it at once instead of after leaveTimeoutMs. */
  leaveFlushMs: 500,
  /** Heartbeats on the gossipsub topic (for members without a direct link, carrying the
   *  capability record) go out every this many heartbeat intervals. Their liveness comes from
   *  the relay's roster (every second, one message for the whole swarm); every gossipsub message
   *  is signed, forwarded and verified in JavaScript, and at one per peer every 2 s they were
   *  ~40% of each page's main thread while 16 pages formed their mesh (docs/NETWORK.md). */
  gossipHeartbeatEvery: 10,
  /** Pubsub peer discovery broadcast period until the node knows a member (ms). */
  discoveryIntervalMs: 2_000,
  /** ... after that (ms): newcomers are answered at once instead (discovery.ts), and the node's
   *  topic heartbeats carry its presence while links form, so this only bounds how stale a
   *  record may get. */
  discoverySlowIntervalMs: 20_000,
  /** A newly seen peer gets our discovery record within this long (ms, with jitter). */
  discoveryReplyMs: 500,
  /** Timeout of a first WebRTC dial attempt (ms; retries 1.5x, dial.ts dialAttemptTimeout). Successful
   *  attempts in the 8-peer mesh took up to 3.3 s on the idle machine and up to 5.9 s at load
   *  average 10 (bench mesh, mesh8_max_attempt_ms); a 4 s limit cut such attempts short, and
   *  the retry then waited behind every other target of the node (20-50 s per link). */
  dialTimeoutMs: 6_000,
  /** Abort an attempt with no libp2p dial progress event for this long (ms); 0 = off (default).
   *  Measured at load average 10: a 3 s stall limit cut attempts waiting on the relay's
   *  connect response or the noise handshake that would have succeeded, and 39 of 50 dial
   *  records needed retries (docs/NETWORK.md). Kept for networks where attempts hang. */
  dialStallMs: 0,
  /** Abort an attempt whose connection is not up this long after the ICE stage began or its
   *  last remote candidate arrived (ms); 0 = off. In 180 successful attempts of session 3's
   *  8-peer runs (load average 1-14) the connection opened at most 816 ms (median 21 ms) after
   *  the ICE stage began; the failed first attempts sat in that stage for 2.5-5 s until their
   *  timeout, and an immediate retry then took 0.3-2 s. (Session 4: those failed attempts were
   *  @libp2p/webrtc's init-channel race, fixed by webrtc-init-race.ts; their peer connections had
   *  connected. The limit stays as a safety net.) */
  dialIceStallMs: 2_000,
  /** A node that has just joined holds its first dials until the members it knows have not
   *  grown for this long (ms): one relay roster period (1 s) plus a margin. While 8 pages joined
   *  together, every newcomer otherwise dialled the first members at once (dial.ts dialHoldMs). */
  dialSettleMs: 1_200,
  /** ... but never longer than this after it reached the relay (ms). */
  dialSettleMaxMs: 4_000,
  /** WebRTC dial attempts per peer before giving up. */
  dialAttempts: 4,
  /** Base of the randomized back-off between dial attempts (ms): base..2*base. */
  dialRetryBaseMs: 300,
  /** Bytes sent on a fresh direct connection before it is reported ready (warm-up). The first
   *  bulk transfer on a new WebRTC association loses packets 1.5-3 MiB in (slow-start overshoot
   *  on a CPU-bound receiver) and recovers by retransmission timeouts of 0.3-1 s each (receiver
   *  arrival traces, bench/net/stall.ts); 4 MiB takes that episode into the warm-up, 1 MiB
   *  ended before it (docs/NETWORK.md, "first-transfer stall"). */
  warmupBytes: 4 * 1024 * 1024,
  /** Warm-ups wait until no direct connection opened on this node for this long (ms), and
   *  until its dialing is idle: warm-ups that ran during the mesh's dials made those dials
   *  slow (direct.ts; docs/NETWORK.md, "Mesh formation"). */
  warmupQuietMs: 1_000,
  /** A warm-up starts at the latest this long after its connection opened (ms), so a target
   *  that keeps failing its dials cannot keep the other links cold. */
  warmupMaxDelayMs: 20_000,
  /** Bytes of a link throughput probe. */
  probeBytes: 1024 * 1024,
  /** RTCDataChannel bytes buffered before a libp2p WebRTC stream waits for drain. libp2p's
   *  default is 16 MiB, right at the ~16 MiB where Chromium closes a channel; 4 MiB also cut
   *  the first-transfer stall on this machine (docs/NETWORK.md). */
  maxBufferedAmount: 4 * 1024 * 1024,
  /** Wait for a new data channel to open and for its protocol negotiation (ms); libp2p's 5 s
   *  and 10 s time out on a CPU-starved peer of a busy machine. */
  streamOpenTimeoutMs: 20_000,
  /** Least time libp2p's connection monitor waits for a ping answer before it aborts the
   *  connection (ms; libp2p: 5 s, which starved pages missed, losing links and the relay). */
  pingTimeoutMs: 20_000,
  /** Relay reservation wait (ms). */
  reservationTimeoutMs: 15_000,
  /** Attempts at the first relay dial in start() (each up to reservationTimeoutMs, 1 s apart):
   *  on a CPU-starved machine (16 pages launching on 2 cores) one noise handshake can time out. */
  relayDialAttempts: 3,
} as const;

/** Wire ids of dtypes, and their element sizes in bytes. */
export const DTYPES = {
  f32: { id: 0, bytes: 4 },
  f16: { id: 1, bytes: 2 },
  bf16: { id: 2, bytes: 2 },
  i8: { id: 3, bytes: 1 },
  u8: { id: 4, bytes: 1 },
  i32: { id: 5, bytes: 4 },
  u32: { id: 6, bytes: 4 },
} as const;
export type DType = keyof typeof DTYPES;

/** Wire ids of codecs, the same ids as the compression module's CODEC_IDS (codecs/constants.ts).
 *  `none`: the payload is the dense tensor (its length is checked against dtype and shape);
 *  the others are compressed payloads that the compression module decodes. */
export const WIRE_CODECS = { none: 0, fp16: 1, int8: 2, topk: 3, sign: 4, randomk: 5 } as const;
export type WireCodecName = keyof typeof WIRE_CODECS;
