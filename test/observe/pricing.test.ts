import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors/configuration-error.js';
import { defaultModel, defaultOpenAIModel } from '../../src/model/default-model.js';
import { costOf, priceOf, registerPrice } from '../../src/observe/pricing.js';

const million = 1_000_000;

describe('pricing', () => {
  it('prices a known model per million tokens, cache reads and writes included', () => {
    expect(costOf('anthropic:claude-sonnet-5-5', { inputTokens: million, outputTokens: million })).toBeCloseTo(12, 10);
    expect(costOf('anthropic:claude-sonnet-5-5', { inputTokens: 1000, outputTokens: 500, cacheReadTokens: 10_000, cacheWriteTokens: 2000 })).toBeCloseTo(
      (1000 * 2 + 500 * 10 + 10_000 * 0.1 + 2000 * 2.5) / million,
      12,
    );
    expect(costOf('openai:gpt-4.1-mini', { inputTokens: 2 * million, outputTokens: 0, cacheReadTokens: million })).toBeCloseTo(0.9, 10);
  });

  it('knows the default models and the current list prices, and keeps the older ones', () => {
    expect(priceOf(defaultModel)).toBeDefined();
    expect(priceOf(defaultOpenAIModel)).toBeDefined();
    expect(priceOf('anthropic:claude-sonnet-5')).toEqual({ inputPerMillion: 2, outputPerMillion: 10, cacheReadPerMillion: 0.2, cacheWritePerMillion: 2.5 });
    expect(priceOf('anthropic:claude-opus-5-5')).toEqual({ inputPerMillion: 4, outputPerMillion: 20, cacheReadPerMillion: 0.2, cacheWritePerMillion: 5 });
    expect(priceOf('anthropic:claude-opus-5')).toEqual({ inputPerMillion: 5, outputPerMillion: 25, cacheReadPerMillion: 0.5, cacheWritePerMillion: 6.25 });
    expect(priceOf('anthropic:claude-fable-5-1')).toEqual({ inputPerMillion: 10, outputPerMillion: 50, cacheReadPerMillion: 0.25, cacheWritePerMillion: 12.5 });
    expect(priceOf('anthropic:claude-haiku-5-5')?.inputPerMillion).toBe(0.1);
    expect(priceOf('anthropic:claude-haiku-4-5')).toEqual({ inputPerMillion: 1, outputPerMillion: 5, cacheReadPerMillion: 0.1, cacheWritePerMillion: 1.25 });
    expect(costOf('openai:gpt-5.4', { inputTokens: million, outputTokens: million, cacheReadTokens: million })).toBeCloseTo(17.75, 10);
    expect(priceOf('openai:gpt-6.1-terra')).toEqual({ inputPerMillion: 1, outputPerMillion: 5, cacheReadPerMillion: 0.05, cacheWritePerMillion: 1.25 });
    // Retired or superseded models keep their price: old traces are still costed.
    expect(costOf('anthropic:claude-sonnet-4-5', { inputTokens: million, outputTokens: million })).toBeCloseTo(18, 10);
    expect(priceOf('openai:gpt-4o')?.inputPerMillion).toBe(2.5);
  });

  it('gives dated snapshots and bare provider names the price of their base model', () => {
    expect(priceOf('anthropic:claude-sonnet-4-5-20250929')).toEqual(priceOf('anthropic:claude-sonnet-4-5'));
    expect(priceOf('openai:gpt-5.4-mini-2026-03-17')).toEqual(priceOf('openai:gpt-5.4-mini'));
    expect(priceOf('openai:gpt-4.1-2025-04-14')).toEqual(priceOf('openai:gpt-4.1'));
    expect(priceOf('claude-haiku-4-5-20251001')).toEqual(priceOf('anthropic:claude-haiku-4-5'));
    expect(priceOf('anthropic:claude-3-5-haiku-latest')?.inputPerMillion).toBe(0.8);
    expect(costOf('anthropic:claude-opus-4-5-20251101', { inputTokens: million, outputTokens: 0 })).toBe(5);
    // gpt-4.1-mini is its own model, not a snapshot of gpt-4.1.
    expect(priceOf('openai:gpt-4.1-mini')?.inputPerMillion).toBe(0.4);
  });

  it('costs nothing for unknown, scripted and replay models', () => {
    const usage = { inputTokens: 1000, outputTokens: 1000 };
    expect(priceOf('openai:some-local-model')).toBeUndefined();
    expect(costOf('openai:some-local-model', usage)).toBe(0);
    expect(costOf('scripted', usage)).toBe(0);
    expect(costOf('replay:fixtures/run.json', usage)).toBe(0);
  });

  it('registers prices for custom models, and can remove them', () => {
    const remove = registerPrice('openai:llama3-local', { inputPerMillion: 0.5, outputPerMillion: 1 });
    expect(priceOf('openai:llama3-local')).toEqual({ inputPerMillion: 0.5, outputPerMillion: 1, cacheReadPerMillion: 0.5, cacheWritePerMillion: 0.5 });
    expect(costOf('openai:llama3-local', { inputTokens: million, outputTokens: million })).toBe(1.5);
    remove();
    expect(costOf('openai:llama3-local', { inputTokens: million, outputTokens: million })).toBe(0);
    expect(() => registerPrice('openai:bad', { inputPerMillion: -1, outputPerMillion: 1 })).toThrow(ConfigurationError);
  });
});
