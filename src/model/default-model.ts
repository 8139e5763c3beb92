/**
 * The live model Troupe's examples, role files and docs name, in one place: change it here when
 * the provider retires it (the Anthropic SDK warns on every call to a deprecated model).
 * Claude Sonnet 5.5 is Anthropic's current Sonnet (list price $2 / $10 per million tokens).
 */
export const defaultModel = 'anthropic:claude-sonnet-5-5';

/** The OpenAI model the docs name when they show the other provider. */
export const defaultOpenAIModel = 'openai:gpt-5.4';
