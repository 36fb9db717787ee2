/**
 * Defaults of the simple-peer bulk channel (bulk/index.ts). Every number a caller can override
 * lives here, with the reason it has this value.
 */

/** libp2p protocol that carries the bulk channel's offer/answer on the existing direct
 *  connection: newline-delimited JSON, one simple-peer signal per line. No signalling server. */
export const BULK_SIGNAL_PROTOCOL = '/swarmgrad/bulk-signal/1.0.0';

/** Largest message a Chromium RTCDataChannel sends (its SDP `a=max-message-size`). */
export const BULK_MAX_MESSAGE_BYTES = 256 * 1024;

export const BULK_DEFAULTS = {
  /** Payload bytes per frame = per DataChannel message. The probe's best raw-channel setting
   *  (64 KiB messages with HIGH 1 MiB / LOW 256 KiB, 45-52 MiB/s on this machine). */
  chunkBytes: 64 * 1024,
  /** Sender pauses when the channel's bufferedAmount passes this. Chromium closes a channel whose
   *  send queue passes ~16 MiB; 1 MiB keeps SCTP busy without long queues. */
  highWaterBytes: 1024 * 1024,
  /** Sender resumes when bufferedAmount falls to this (bufferedAmountLowThreshold): above zero,
   *  so the channel never runs dry while JavaScript encodes the next frames. */
  lowWaterBytes: 256 * 1024,
  /** Offer/answer plus ICE/DTLS/SCTP until the channel is open (ms). */
  connectTimeoutMs: 20_000,
  /** The receiver's ack must arrive within this long after the last frame was queued (ms). */
  ackTimeoutMs: 30_000,
  /** Longest signalling line accepted (an SDP offer is ~1 KiB with trickle off). */
  maxSignalBytes: 64 * 1024,
  /** A peer that is not the dialer of the pair waits this long for the dialer's bulk channel
   *  before opening its own (one RTCPeerConnection per pair instead of two). */
  adoptWaitMs: 5_000,
} as const;

/** The default data path for tensors on direct connections (SwarmNodeInit.bulkChannel). */
export const DEFAULT_BULK_CHANNEL: 'simple-peer' | 'libp2p' = 'simple-peer';
