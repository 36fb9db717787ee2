/** Swarmgrad relay: public API. */
export * from './http.ts';
export * from './relay.ts';
