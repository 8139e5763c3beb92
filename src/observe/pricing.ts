import { ConfigurationError } from '../core/errors/configuration-error.js';
import type { UsageFigures } from './trace-event.js';

/**
 * What a model costs, in USD per million tokens. `cacheRead` is the price of input served from
 * the prompt cache; `cacheWrite` the price of input written to it (Anthropic's 5-minute cache
 * writes; OpenAI does not charge extra for writes, so there it equals the input price).
 */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
  cacheReadPerMillion: number;
  cacheWritePerMillion: number;
}

/** A price to register: cache prices default to the input price when the model has no cache discount. */
export type ModelPriceInput = Pick<ModelPrice, 'inputPerMillion' | 'outputPerMillion'> &
  Partial<Pick<ModelPrice, 'cacheReadPerMillion' | 'cacheWritePerMillion'>>;

function price(input: number, output: number, cacheRead: number, cacheWrite = input): ModelPrice {
  return { inputPerMillion: input, outputPerMillion: output, cacheReadPerMillion: cacheRead, cacheWritePerMillion: cacheWrite };
}

/*
 * Published list prices (standard tier, no batch discount), checked against
 * platform.claude.com/docs/en/about-claude/pricing and platform.openai.com/docs/pricing.
 * Anthropic: cache writes are 1.25x input (5-minute cache), cache hits 0.1x input.
 * Long-context surcharges (over 200k input tokens) are not modelled: costs are estimates for
 * budgets and reports, never an invoice.
 */
const builtInPrices: Record<string, ModelPrice> = {
  'anthropic:claude-opus-4-5': price(5, 25, 0.5, 6.25),
  'anthropic:claude-opus-4-1': price(15, 75, 1.5, 18.75),
  'anthropic:claude-opus-4': price(15, 75, 1.5, 18.75),
  'anthropic:claude-opus-4-0': price(15, 75, 1.5, 18.75),
  'anthropic:claude-sonnet-4-5': price(3, 15, 0.3, 3.75),
  'anthropic:claude-sonnet-4': price(3, 15, 0.3, 3.75),
  'anthropic:claude-sonnet-4-0': price(3, 15, 0.3, 3.75),
  'anthropic:claude-haiku-4-5': price(1, 5, 0.1, 1.25),
  'anthropic:claude-3-5-haiku': price(0.8, 4, 0.08, 1),
  'openai:gpt-4.1': price(2, 8, 0.5),
  'openai:gpt-4.1-mini': price(0.4, 1.6, 0.1),
  'openai:gpt-4.1-nano': price(0.1, 0.4, 0.025),
  'openai:gpt-4o': price(2.5, 10, 1.25),
  'openai:gpt-4o-mini': price(0.15, 0.6, 0.075),
  'openai:o3': price(2, 8, 0.5),
  'openai:o4-mini': price(1.1, 4.4, 0.275),
  'openai:gpt-5': price(1.25, 10, 0.125),
  'openai:gpt-5-mini': price(0.25, 2, 0.025),
  'openai:gpt-5-nano': price(0.05, 0.4, 0.005),
};

// Registered prices win over built-in ones, so a user can correct a price without waiting for a release.
const registered = new Map<string, ModelPrice>();
// Model name without provider -> the `provider:model` key, for ids as providers report them (`claude-sonnet-4-5-20250929`).
const byBareName = new Map<string, string>();
// Resolved lookups, including misses (`null`): costOf runs on every model call.
const resolved = new Map<string, ModelPrice | null>();

for (const key of Object.keys(builtInPrices)) indexBareName(key);

function indexBareName(key: string): void {
  const colon = key.indexOf(':');
  if (colon > 0) byBareName.set(key.slice(colon + 1), key);
}

// Dated snapshots and aliases share their base model's price:
// claude-sonnet-4-5-20250929, gpt-4.1-2025-04-14, claude-3-5-haiku-latest.
const snapshotSuffix = /-(?:\d{8}|\d{4}-\d{2}-\d{2}|latest)$/;

function lookup(key: string): ModelPrice | undefined {
  const direct = registered.get(key) ?? builtInPrices[key];
  if (direct) return direct;
  if (!key.includes(':')) {
    const full = byBareName.get(key);
    if (full) return registered.get(full) ?? builtInPrices[full];
  }
  return undefined;
}

/** The price of a model, by `provider:model` id or bare model name; undefined when unknown. */
export function priceOf(modelId: string): ModelPrice | undefined {
  const cached = resolved.get(modelId);
  if (cached !== undefined) return cached ?? undefined;
  const key = modelId.trim().toLowerCase();
  const found = lookup(key) ?? (snapshotSuffix.test(key) ? lookup(key.replace(snapshotSuffix, '')) : undefined);
  resolved.set(modelId, found ?? null);
  return found;
}

/**
 * The cost in USD of one call's usage. Usage follows Anthropic's convention: `inputTokens` are
 * the input tokens not served from or written to the cache, which are counted apart in
 * `cacheReadTokens` / `cacheWriteTokens` (providers that include cached tokens in their input
 * count must subtract them). Unknown models cost 0, and so do scripted models and
 * `replay:` ids unless a price is registered for them; a cost budget on such a model is refused
 * when its run starts (see costBudget), since it could never fire.
 */
export function costOf(modelId: string, usage: UsageFigures): number {
  const entry = priceOf(modelId);
  if (!entry) return 0;
  const micro =
    usage.inputTokens * entry.inputPerMillion +
    usage.outputTokens * entry.outputPerMillion +
    (usage.cacheReadTokens ?? 0) * entry.cacheReadPerMillion +
    (usage.cacheWriteTokens ?? 0) * entry.cacheWritePerMillion;
  return micro / 1_000_000;
}

/**
 * Sets the price of a model: a custom or local model (`openai:llama3` served by an
 * OpenAI-compatible server), or a correction of a built-in price. Returns a function that removes it.
 */
export function registerPrice(modelId: string, entry: ModelPriceInput): () => void {
  const key = modelId.trim().toLowerCase();
  const full: ModelPrice = {
    inputPerMillion: entry.inputPerMillion,
    outputPerMillion: entry.outputPerMillion,
    cacheReadPerMillion: entry.cacheReadPerMillion ?? entry.inputPerMillion,
    cacheWritePerMillion: entry.cacheWritePerMillion ?? entry.inputPerMillion,
  };
  for (const [name, value] of Object.entries(full)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new ConfigurationError(`The price of "${modelId}" must be a non-negative number of USD per million tokens.`, {
        field: name,
      });
    }
  }
  registered.set(key, full);
  if (!byBareName.has(key.slice(key.indexOf(':') + 1))) indexBareName(key);
  resolved.clear();
  return () => {
    if (registered.get(key) === full) {
      registered.delete(key);
      resolved.clear();
    }
  };
}
