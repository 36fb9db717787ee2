/** Swarmgrad peer core: public API. */
export {};
export * from './codecs/index.ts';
