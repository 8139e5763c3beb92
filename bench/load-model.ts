// The model and documents of bench/load: the invoices documents, answered from their cassette
// after a simulated latency, with a share of calls failing like an overloaded provider. Shared by
// the bench and its worker processes (bench/load-worker.ts).
import { readFileSync } from 'node:fs';
import { ProviderUnavailableError, withRetry, type ModelClient, type ModelRequest, type ModelResponse } from 'troupe';
import { loadCassette, requestKey } from 'troupe/testing';

const root = new URL('../../', import.meta.url); // dist/bench/ → the package root
export const documents = JSON.parse(readFileSync(new URL('crews/invoices/documents.json', root), 'utf8')) as Array<{
  id: string;
  input: { source: string; text: string };
}>;
const cassette = loadCassette(new URL('crews/invoices/cassette.json', root).pathname);
/**
 * The most calls one item makes one after another without faults: its classification, then its
 * extraction and each retry of it (the cassette holds every call the documents need). A call is
 * the item's when the request quotes the document's text.
 */
export const longestChain = Math.max(
  ...documents.map(
    (document) => cassette.entries.filter((entry) => JSON.stringify(entry.request).includes(JSON.stringify(document.input.text).slice(1, 41))).length,
  ),
);

/** A seeded generator (mulberry32), so a run's faults repeat. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Answers from the cassette after `latencyMs`; fails a `faultRate` share of calls with a 503. */
export function loadModel(faults: number, latency: number): { model: ModelClient; stats: { calls: number; faults: number } } {
  const modelId = cassette.entries[0]!.request.model;
  const answers = new Map<string, ModelResponse>();
  for (const entry of cassette.entries) if (!answers.has(entry.key)) answers.set(entry.key, entry.response);
  // The cassette's key (stable JSON of the request, hashed) costs more CPU than the rest of a
  // call: it is computed once per distinct request, found by the request's plain JSON. The bench
  // measures Troupe's CPU; the fake provider's should stay small.
  // A task's tools and output schema are the same objects call after call: their JSON is kept by identity.
  const keys = new Map<string, string>();
  const shapes = new WeakMap<object, string>();
  const jsonOf = (value: object | undefined): string => {
    if (value === undefined) return '';
    let json = shapes.get(value);
    if (json === undefined) shapes.set(value, (json = JSON.stringify(value)));
    return json;
  };
  const keyOf = (request: ModelRequest): string => {
    const { system, messages, tools, toolChoice, output } = request;
    const plain = `${JSON.stringify([system, messages, toolChoice])}\n${jsonOf(tools)}\n${jsonOf(output)}`;
    let key = keys.get(plain);
    if (key === undefined) keys.set(plain, (key = requestKey(modelId, request)));
    return key;
  };
  const random = seeded(42);
  const stats = { calls: 0, faults: 0 };
  const slow: ModelClient = {
    id: modelId,
    async generate(request: ModelRequest): Promise<ModelResponse> {
      stats.calls++;
      await new Promise((resolve) => setTimeout(resolve, latency));
      if (random() < faults) {
        stats.faults++;
        throw new ProviderUnavailableError('bench', 'HTTP 503 (injected)', undefined, { status: 503 });
      }
      const answer = answers.get(keyOf(request));
      if (!answer) throw new Error('the bench asked the model something the cassette has no answer for');
      return structuredClone(answer);
    },
  };
  return { model: withRetry(slow, { baseDelayMs: 50, maxDelayMs: 400 }), stats };
}
