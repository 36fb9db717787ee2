/** The e2e peer page with RTCPeerConnection tracing (pc-trace.ts) installed first. */
import './pc-trace.ts';
import '../../test/e2e/pages/peer.page.ts';
