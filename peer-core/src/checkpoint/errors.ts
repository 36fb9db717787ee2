/** Named errors of checkpoint reading and writing. */

/** Bytes that are not a valid safetensors file (bad header, offsets outside the data, ...). */
export class SafetensorsFormatError extends Error {
  override name = 'SafetensorsFormatError';
}

/** A valid file that does not fit the model (missing tensor, wrong shape, unsupported dtype). */
export class CheckpointMismatchError extends Error {
  override name = 'CheckpointMismatchError';
}
