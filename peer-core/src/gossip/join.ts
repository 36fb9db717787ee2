/**
 * Joining: a new peer pulls the current model from a neighbour before it contributes.
 * `ModelServer` answers 'model-pull' requests with a 'model' message carrying the current
 * parameters in fp32 (codec `none`); `pullModel` asks one peer and waits up to a timeout.
 */
import { createCodec } from '../codecs/index.ts';
import { decodeWire, encodeWire } from '../codecs/wire.ts';
import { DEFAULT_ROUND_TIMEOUT_MS, DEFAULT_TENSOR } from './constants.ts';
import { ModelPullError } from './errors.ts';
import type { GossipTransport, PeerId } from './transport.ts';

export interface ModelServerInit {
  transport: GossipTransport;
  /** Returns the parameters to serve (read at request time). */
  current: () => Float32Array;
  tensor?: string;
}

export class ModelServer {
  private readonly abort = new AbortController();
  private readonly codec = createCodec('none');
  served = 0;

  constructor(private readonly init: ModelServerInit) {}

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.abort.abort();
  }

  private async loop(): Promise<void> {
    const { transport } = this.init;
    const tensor = this.init.tensor ?? DEFAULT_TENSOR;
    while (!this.abort.signal.aborted) {
      const m = await transport.recv({ kind: 'model-pull', tensor }, Number.POSITIVE_INFINITY, this.abort.signal);
      if (!m) continue;
      transport.send(m.from, { kind: 'model', step: m.step, tensor, flags: 0, body: encodeWire(this.codec.compress(this.init.current())) });
      this.served++;
    }
  }
}

let pullSeq = 0;

/** Ask `from` for its current parameters; throws ModelPullError on timeout or a bad payload. */
export async function pullModel(transport: GossipTransport, from: PeerId, opts: { tensor?: string; timeoutMs?: number } = {}): Promise<Float32Array> {
  const tensor = opts.tensor ?? DEFAULT_TENSOR;
  const seq = pullSeq++;
  transport.send(from, { kind: 'model-pull', step: seq, tensor, flags: 0, body: new Uint8Array(0) });
  const m = await transport.recv({ kind: 'model', from, step: seq, tensor }, opts.timeoutMs ?? DEFAULT_ROUND_TIMEOUT_MS);
  if (!m) throw new ModelPullError(`no model from ${from} within ${opts.timeoutMs ?? DEFAULT_ROUND_TIMEOUT_MS} ms`);
  try {
    const enc = decodeWire(m.body);
    return createCodec(enc.codec).decompress(enc);
  } catch (e) {
    throw new ModelPullError(`bad model payload from ${from}: ${(e as Error).message}`);
  }
}
