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
 * Published list prices (standard tier, no batch discount), in USD per million tokens, as read on
 * 2026-12-02:
 * - Anthropic: platform.claude.com/docs/en/about-claude/pricing (model pricing table) and the model
 *   pages (platform.claude.com/docs/en/models/<model>/overview). 5-minute cache writes are 1.25x
 *   input. Cache hits are 0.1x input, except Claude Opus 5.5 and Sonnet 5.5 (0.05x: Sonnet 5.5's
 *   went from $0.20 to $0.10 on 2026-10-07, per its migration guide,
 *   platform.claude.com/docs/en/models/sonnet-5-5/migration-guide) and Fable / Mythos 5.1 ($0.25).
 *   Claude Haiku 5.5 is priced by prompt length: the prices here are for prompts up to 100k tokens
 *   (longer prompts cost 5x).
 * - OpenAI: developers.openai.com/api/docs/pricing and the model pages
 *   (developers.openai.com/api/docs/models/<model>). OpenAI charges cache writes only on the
 *   models whose page lists them (gpt-5.6, gpt-6.x: 1.25x input); elsewhere they cost the input price.
 * Long-context surcharges (Anthropic over 200k input tokens on older models, OpenAI over 272k) are
 * not modelled: costs are estimates for budgets and reports, never an invoice.
 */
const builtInPrices: Record<string, ModelPrice> = {
  'anthropic:claude-fable-5-1': price(10, 50, 0.25, 12.5),
  'anthropic:claude-fable-5': price(10, 50, 1, 12.5),
  'anthropic:claude-mythos-5-1': price(10, 50, 0.25, 12.5),
  'anthropic:claude-mythos-5': price(10, 50, 1, 12.5),
  'anthropic:claude-opus-5-5': price(4, 20, 0.2, 5),
  'anthropic:claude-opus-5': price(5, 25, 0.5, 6.25),
  'anthropic:claude-opus-4-8': price(5, 25, 0.5, 6.25),
  'anthropic:claude-opus-4-7': price(5, 25, 0.5, 6.25),
  'anthropic:claude-opus-4-6': price(5, 25, 0.5, 6.25),
  'anthropic:claude-opus-4-5': price(5, 25, 0.5, 6.25),
  'anthropic:claude-opus-4-1': price(15, 75, 1.5, 18.75),
  'anthropic:claude-opus-4': price(15, 75, 1.5, 18.75),
  'anthropic:claude-opus-4-0': price(15, 75, 1.5, 18.75),
  'anthropic:claude-sonnet-5-5': price(2, 10, 0.1, 2.5),
  'anthropic:claude-sonnet-5': price(2, 10, 0.2, 2.5),
  'anthropic:claude-sonnet-4-6': price(3, 15, 0.3, 3.75),
  'anthropic:claude-sonnet-4-5': price(3, 15, 0.3, 3.75),
  'anthropic:claude-sonnet-4': price(3, 15, 0.3, 3.75),
  'anthropic:claude-sonnet-4-0': price(3, 15, 0.3, 3.75),
  'anthropic:claude-haiku-5-5': price(0.1, 0.5, 0.01, 0.125),
  'anthropic:claude-haiku-4-5': price(1, 5, 0.1, 1.25),
  'anthropic:claude-3-5-haiku': price(0.8, 4, 0.08, 1),
  'openai:gpt-6.1-terra': price(1, 5, 0.05, 1.25),
  'openai:gpt-5.6-terra': price(2, 12, 0.2, 2.5),
  'openai:gpt-5.5': price(5, 30, 0.5),
  'openai:gpt-5.4': price(2.5, 15, 0.25),
  'openai:gpt-5.4-mini': price(0.75, 4.5, 0.075),
  'openai:gpt-5.4-nano': price(0.2, 1.25, 0.02),
  'openai:gpt-5.2': price(1.75, 14, 0.175),
  'openai:gpt-5.1': price(1.25, 10, 0.125),
  'openai:gpt-5': price(1.25, 10, 0.125),
  'openai:gpt-5-mini': price(0.25, 2, 0.025),
  'openai:gpt-5-nano': price(0.05, 0.4, 0.005),
  'openai:gpt-4.1': price(2, 8, 0.5),
  'openai:gpt-4.1-mini': price(0.4, 1.6, 0.1),
  'openai:gpt-4.1-nano': price(0.1, 0.4, 0.025),
  'openai:gpt-4o': price(2.5, 10, 1.25),
  'openai:gpt-4o-mini': price(0.15, 0.6, 0.075),
  'openai:o3': price(2, 8, 0.5),
  'openai:o4-mini': price(1.1, 4.4, 0.275),
};

// Registered prices win over built-in ones, so a user can correct a price without waiting for a release.
const registered = new Map<string, ModelPrice>();
// Model name without provider -> the `provider:model` key, for ids as providers report them (`claude-haiku-4-5-20251001`).
const byBareName = new Map<string, string>();
// Resolved lookups, including misses (`null`): costOf runs on every model call.
const resolved = new Map<string, ModelPrice | null>();

for (const key of Object.keys(builtInPrices)) indexBareName(key);

function indexBareName(key: string): void {
  const colon = key.indexOf(':');
  if (colon > 0) byBareName.set(key.slice(colon + 1), key);
}

// Dated snapshots and aliases share their base model's price:
// claude-haiku-4-5-20251001, gpt-5.4-mini-2026-03-17, claude-3-5-haiku-latest.
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
