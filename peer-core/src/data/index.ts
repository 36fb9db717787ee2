/**
 * Data: tokenized corpus with a held-out split, batches, the unigram baseline, and browser
 * loading. Node-only loading of the bundled corpus packages is in ./node.ts
 * (`@swarmgrad/peer-core/data-node`).
 */
export * from './dataset.ts';
export * from './corpora.ts';
export * from './browser.ts';
