/**
 * Diagnostic for the mesh bench (`bench/net/mesh.ts --pc-trace`): wraps the page's
 * RTCPeerConnection so that every instance records its state changes (ICE gathering, ICE
 * connection, connection, signalling) with times relative to its creation, and whether it was
 * closed. Imported before the peer page, so libp2p's and simple-peer's connections are traced.
 * What it is not: part of any shipped page.
 */
interface PcTrace {
  id: number;
  createdAt: number;
  events: string[];
  connected: boolean;
  closedAt?: number;
}
const traces: PcTrace[] = [];
const Orig = globalThis.RTCPeerConnection;
if (Orig) {
  let next = 0;
  class Traced extends Orig {
    constructor(config?: RTCConfiguration) {
      super(config);
      const t: PcTrace = { id: next++, createdAt: performance.now(), events: [], connected: false };
      traces.push(t);
      const at = () => Math.round(performance.now() - t.createdAt);
      this.addEventListener('icegatheringstatechange', () => t.events.push(`gather:${this.iceGatheringState}@${at()}`));
      this.addEventListener('iceconnectionstatechange', () => t.events.push(`ice:${this.iceConnectionState}@${at()}`));
      this.addEventListener('connectionstatechange', () => {
        t.events.push(`conn:${this.connectionState}@${at()}`);
        if (this.connectionState === 'connected') t.connected = true;
      });
      this.addEventListener('signalingstatechange', () => t.events.push(`sig:${this.signalingState}@${at()}`));
      const watch = (ch: RTCDataChannel, how: string) => {
        if (ch.label !== 'init') return;
        t.events.push(`init-${how}:${ch.readyState}@${at()}`);
        ch.addEventListener('open', () => t.events.push(`init-open@${at()}`));
        ch.addEventListener('closing', () => t.events.push(`init-closing@${at()}`));
        ch.addEventListener('close', () => t.events.push(`init-close@${at()}`));
        ch.addEventListener('error', () => t.events.push(`init-error@${at()}`));
      };
      const create = this.createDataChannel.bind(this);
      this.createDataChannel = (label: string, init?: RTCDataChannelInit) => {
        const ch = create(label, init);
        watch(ch, 'created');
        const chClose = ch.close.bind(ch);
        ch.close = () => {
          if (ch.label === 'init') t.events.push(`init-close-called:${ch.readyState}@${at()}`);
          chClose();
        };
        return ch;
      };
      this.addEventListener('datachannel', (e) => watch(e.channel, 'received'));
      const close = this.close.bind(this);
      this.close = () => {
        t.closedAt ??= at();
        t.events.push(`close@${at()}`);
        close();
      };
    }
  }
  globalThis.RTCPeerConnection = Traced;
}
(globalThis as unknown as { __pcTrace: () => PcTrace[] }).__pcTrace = () => traces;
