/** Minimal types of simple-peer 9 (the package ships none), as used by the bulk channel. */
declare module 'simple-peer' {
  interface SimplePeerOptions {
    initiator?: boolean;
    trickle?: boolean;
    config?: RTCConfiguration;
    channelConfig?: RTCDataChannelInit;
    channelName?: string;
    /** WebRTC implementation where there is no global RTCPeerConnection. */
    wrtc?: unknown;
    allowHalfTrickle?: boolean;
  }
  class SimplePeer {
    constructor(opts?: SimplePeerOptions);
    signal(data: unknown): void;
    send(data: Uint8Array | string): void;
    destroy(err?: Error): void;
    readonly destroyed: boolean;
    on(event: 'signal', cb: (data: unknown) => void): this;
    on(event: 'connect' | 'close', cb: () => void): this;
    on(event: 'error', cb: (err: Error) => void): this;
    on(event: 'data', cb: (data: Uint8Array) => void): this;
    /** Readable-stream read: the next buffered message, or null. */
    read(): Uint8Array | null;
    /** The underlying RTCDataChannel (private API, used for backpressure and for reading messages). */
    _channel: RTCDataChannel;
    _pc: RTCPeerConnection;
  }
  export default SimplePeer;
}
