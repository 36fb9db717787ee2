/** The e2e volunteer page: a SwarmNode driven through `window.swarmgradPeer` (see peer-api.ts). */
import { makePeerApi } from './peer-api.ts';

(window as unknown as { swarmgradPeer: unknown }).swarmgradPeer = makePeerApi();
