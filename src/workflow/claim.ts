/** Where a claimed value came from: a source document and the words that support it, or a tool's output. */
export interface Evidence {
  source: string;
  quote?: string;
  /** A tool call, task or URL the evidence was taken from. */
  ref?: string;
}

/**
 * What a task proposes. A model step never changes state itself: it returns a claim (the proposed
 * value, whether it thinks the value is supported, the evidence), and the workflow's code decides
 * — validate, check evidence, apply policies — whether the claim may change the item's state.
 */
export interface Claim {
  value: unknown;
  status: 'proposed' | 'unsupported';
  evidence: Evidence[];
  /** The model that made the claim, when one did. */
  model?: string;
  costUsd?: number;
}

const claimMark = Symbol('troupe.claim');

/** Makes a claim. A code task may return one (to attach evidence) instead of a plain value. */
export function claim(value: unknown, evidence: Evidence[] = [], extra: Partial<Omit<Claim, 'value' | 'evidence'>> = {}): Claim {
  const made: Claim = {
    value,
    status: extra.status ?? 'proposed',
    evidence,
    ...(extra.model ? { model: extra.model } : {}),
    ...(extra.costUsd ? { costUsd: extra.costUsd } : {}),
  };
  Object.defineProperty(made, claimMark, { value: true });
  return made;
}

export function isClaim(value: unknown): value is Claim {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[claimMark] === true;
}
