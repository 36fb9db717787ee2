/**
 * Named errors of Swarmgrad networking. Everything that comes off the network and is wrong
 * raises one of the Frame* errors (all extend FrameError); nothing else escapes the decoder.
 */

/** Base of every error raised while decoding bytes from the network. */
export class FrameError extends Error {
  override name = 'FrameError';
}
/** Bytes do not start with the "SGTF" magic: not a Swarmgrad tensor frame. */
export class FrameMagicError extends FrameError {
  override name = 'FrameMagicError';
}
/** A frame of a wire version this peer does not speak. */
export class FrameVersionError extends FrameError {
  override name = 'FrameVersionError';
}
/** The stream or message ended inside a frame. */
export class FrameTruncatedError extends FrameError {
  override name = 'FrameTruncatedError';
}
/** A frame, tensor or shape above the receiver's limits. */
export class FrameTooLargeError extends FrameError {
  override name = 'FrameTooLargeError';
}
/** Header or payload CRC32 mismatch. */
export class FrameChecksumError extends FrameError {
  override name = 'FrameChecksumError';
}
/** A header field out of range: unknown dtype/codec, bad ndim, index >= count, length vs shape. */
export class FrameFieldError extends FrameError {
  override name = 'FrameFieldError';
}
/** Chunks of one tensor that disagree, repeat, or arrive after the tensor completed. */
export class FrameSequenceError extends FrameError {
  override name = 'FrameSequenceError';
}
/** Too many partially received tensors at once. */
export class ReassemblyLimitError extends FrameError {
  override name = 'ReassemblyLimitError';
}

/** A tensor to send that cannot be encoded (caller error, raised before anything is sent). */
export class TensorEncodeError extends Error {
  override name = 'TensorEncodeError';
}
/** The remote peer refused or did not acknowledge a tensor. */
export class TensorAckError extends Error {
  override name = 'TensorAckError';
}
/** No usable connection to a peer. */
export class PeerNotConnectedError extends Error {
  override name = 'PeerNotConnectedError';
}
/** The relay could not be dialled or gave no reservation in time. */
export class RelayConnectError extends Error {
  override name = 'RelayConnectError';
}
/** One direct dial attempt ran out of time, or made no progress for dialStallMs. */
export class DialTimeoutError extends Error {
  override name = 'DialTimeoutError';
}
/** Every attempt to open a direct WebRTC connection to a peer failed. */
export class DirectDialError extends Error {
  override name = 'DirectDialError';
}
/** SwarmNode used before start() or after stop(). */
export class SwarmNodeStateError extends Error {
  override name = 'SwarmNodeStateError';
}
