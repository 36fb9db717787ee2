/** The GPT model: config, flat parameter layout, deterministic init, stages. */
export * from './config.ts';
export * from './errors.ts';
export * from './layout.ts';
export * from './init.ts';
export * from './gpt.ts';
export * from './stage.ts';
