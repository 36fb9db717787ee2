/** Named errors of the model. */

/** A GPT config that cannot build a model (non-integer sizes, width not divisible by heads, ...). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A stage or model call whose inputs do not fit (wrong batch size, missing tokens/targets, ...). */
export class ModelInputError extends Error {
  override name = 'ModelInputError';
}
