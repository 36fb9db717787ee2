/** Named errors of the codecs. Network input never crashes a peer: it raises one of these. */

/** compress() was given data it cannot encode faithfully (NaN/Inf, bad options). */
export class CodecInputError extends Error {
  override name = 'CodecInputError';
  constructor(codec: string, message: string) {
    super(`${codec}: ${message}`);
  }
}

/** decompress()/decodeWire() was given bytes that do not match the layout (length, header, values). */
export class CodecPayloadError extends Error {
  override name = 'CodecPayloadError';
  constructor(codec: string, message: string) {
    super(`${codec}: ${message}`);
  }
}

/** Unknown codec name or id. */
export class UnknownCodecError extends Error {
  override name = 'UnknownCodecError';
}
