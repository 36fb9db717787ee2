/** Training on top of the model: optimizers, trainStep, evalLoss, generate. */
export * from './optimizer.ts';
export * from './train.ts';
export * from './generate.ts';
export * from './recipe.ts';
