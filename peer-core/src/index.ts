/** Swarmgrad peer core: public API. */
export {};
