/**
 * safetensors read/write on plain Uint8Arrays (works the same in the browser and in Node):
 *   u64 little-endian N | N bytes of JSON header | data
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end)} relative to the
 * start of the data, plus an optional "__metadata__" map of strings. Reading supports F32, F16,
 * BF16 (converted to Float32Array), I32 and I64 (to Int32Array, range-checked); writing F32 and
 * I32. Parsing never trusts the file: every size and offset is checked, errors are named.
 */
import { SafetensorsFormatError } from './errors.ts';

export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64' | 'F64' | 'I8' | 'U8' | 'I16' | 'U16' | 'BOOL' | 'U32' | 'U64';

export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  /** F32/F16/BF16/F64 as Float32Array; I32/I64 as Int32Array. Other dtypes are refused on read. */
  data: Float32Array | Int32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8, F64: 8, I8: 1, U8: 1, I16: 2, U16: 2, BOOL: 1, U32: 4, U64: 8 };
/** Headers above this size are refused (the format's own reference limit is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Parses a safetensors file. Only the header is parsed eagerly; data is copied per tensor. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw new SafetensorsFormatError(`file of ${bytes.length} bytes is shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES || 8 + n > bytes.length) throw new SafetensorsFormatError(`header length ${n} does not fit a file of ${bytes.length} bytes`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsFormatError(`header is not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsFormatError('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, SafetensorsTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (raw && typeof raw === 'object') metadata = Object.fromEntries(Object.entries(raw as object).map(([k, v]) => [k, String(v)]));
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info?.dtype as SafetensorsDType;
    if (typeof dtype !== 'string' || !(dtype in BYTES)) throw new SafetensorsFormatError(`${name}: unknown dtype ${String(info?.dtype)}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsFormatError(`${name}: bad shape ${JSON.stringify(shape)}`);
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new SafetensorsFormatError(`${name}: bad data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLen || end - begin !== count * BYTES[dtype]) {
      throw new SafetensorsFormatError(`${name}: data_offsets [${begin}, ${end}) do not hold ${count} ${dtype} within ${dataLen} data bytes`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
    let data: Float32Array | Int32Array;
    switch (dtype) {
      case 'F32':
        data = new Float32Array(count);
        for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
        break;
      case 'F64':
        data = new Float32Array(count);
        for (let i = 0; i < count; i++) data[i] = view.getFloat64(i * 8, true);
        break;
      case 'F16':
        data = new Float32Array(count);
        for (let i = 0; i < count; i++) data[i] = halfToFloat(view.getUint16(i * 2, true));
        break;
      case 'BF16': {
        data = new Float32Array(count);
        const u = new Uint32Array(data.buffer);
        for (let i = 0; i < count; i++) u[i] = view.getUint16(i * 2, true) << 16;
        break;
      }
      case 'I32':
        data = new Int32Array(count);
        for (let i = 0; i < count; i++) data[i] = view.getInt32(i * 4, true);
        break;
      case 'I64':
        data = new Int32Array(count);
        for (let i = 0; i < count; i++) {
          const v = view.getBigInt64(i * 8, true);
          if (v > 2147483647n || v < -2147483648n) throw new SafetensorsFormatError(`${name}[${i}] = ${v} does not fit in int32`);
          data[i] = Number(v);
        }
        break;
      default:
        throw new SafetensorsFormatError(`${name}: dtype ${dtype} is not supported by this reader`);
    }
    tensors.set(name, { dtype, shape: shape as number[], data });
  }
  return { tensors, metadata };
}

export interface TensorToWrite {
  shape: number[];
  data: Float32Array | Int32Array;
}

/**
 * Serializes tensors (F32 from Float32Array, I32 from Int32Array) in name order, the header
 * padded with spaces to a multiple of 8 bytes as the reference implementation does.
 */
export function writeSafetensors(tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new SafetensorsFormatError(`${name}: shape ${JSON.stringify(t.shape)} holds ${count} elements, data has ${t.data.length}`);
    const dtype = t.data instanceof Float32Array ? 'F32' : 'I32';
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + count * 4] };
    offset += count * 4;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hbytes = enc.encode(json);
  if (hbytes.length % 8) {
    json += ' '.repeat(8 - (hbytes.length % 8));
    hbytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + hbytes.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let p = 8 + hbytes.length;
  for (const [, t] of entries) {
    if (t.data instanceof Float32Array) for (let i = 0; i < t.data.length; i++, p += 4) dv.setFloat32(p, t.data[i], true);
    else for (let i = 0; i < t.data.length; i++, p += 4) dv.setInt32(p, t.data[i], true);
  }
  return out;
}
