/**
 * Array types of the reference kernels. Every reference op accepts Float32Array (what the
 * backends use) or Float64Array (what the finite-difference gradient tests use).
 */
export type FloatArray = Float32Array | Float64Array;
