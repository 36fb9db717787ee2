/**
 * Named errors of the simple-peer bulk channel. Wrong bytes from the network raise
 * BulkProtocolError (a FrameError, like every decoding error of the tensor wire protocol).
 */
import { FrameError } from '../errors.ts';

/** The channel closed (the peer vanished, the connection dropped, or close() was called) while a
 *  tensor was being sent or its ack awaited. */
export class BulkChannelClosedError extends Error {
  override name = 'BulkChannelClosedError';
}
/** The bulk channel could not be opened: offer/answer failed, timed out, or ICE/DTLS never
 *  completed. */
export class BulkConnectError extends Error {
  override name = 'BulkConnectError';
}
/** This runtime has no WebRTC (no RTCPeerConnection and no `wrtc` implementation passed). */
export class BulkUnavailableError extends Error {
  override name = 'BulkUnavailableError';
}
/** A malformed or oversized line on the signalling stream. */
export class BulkSignalError extends Error {
  override name = 'BulkSignalError';
}
/** A message on the bulk channel that is neither a valid frame nor the ack of a tensor in
 *  flight (an unsolicited or mismatched ack). */
export class BulkProtocolError extends FrameError {
  override name = 'BulkProtocolError';
}
/** Bad options (e.g. a frame that cannot fit in one DataChannel message). */
export class BulkConfigError extends RangeError {
  override name = 'BulkConfigError';
}
