import { stableStringify } from '../../core/json.js';
import { checkName, type GoldenCheck } from './golden.js';

/**
 * Compares an actual output with a golden expectation and says how they differ, one line per
 * field, so a report shows `total: expected 1250, got 125` instead of two JSON blobs.
 */
export async function matchExpected(
  expected: unknown,
  actual: unknown,
  checks: Readonly<Record<string, GoldenCheck>>,
  example: { input: unknown; outputs: Readonly<Record<string, unknown>> },
): Promise<string[]> {
  const name = checkName(expected);
  if (name !== undefined) {
    const verdict = await checks[name]!(actual, example);
    if (verdict === true || (typeof verdict === 'object' && verdict.ok)) return [];
    return [`check ${name} failed${typeof verdict === 'object' && verdict.report ? `: ${verdict.report}` : ''}`];
  }
  if (isObject(expected) && Object.keys(expected).length === 1 && 'equals' in expected) {
    return stableStringify(expected['equals']) === stableStringify(actual) ? [] : [`expected exactly ${show(expected['equals'])}, got ${show(actual)}`];
  }
  return differences(expected, actual, '');
}

function differences(expected: unknown, actual: unknown, path: string): string[] {
  const at = path || 'the output';
  if (isObject(expected)) {
    if (!isObject(actual)) return [`${at}: expected an object, got ${show(actual)}`];
    return Object.entries(expected).flatMap(([key, value]) => differences(value, actual[key], path ? `${path}.${key}` : key));
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${at}: expected a list, got ${show(actual)}`];
    if (expected.length !== actual.length) return [`${at}: expected ${expected.length} entries, got ${actual.length}`];
    return expected.flatMap((value, index) => differences(value, actual[index], `${path}[${index}]`));
  }
  return stableStringify(expected) === stableStringify(actual) ? [] : [`${at}: expected ${show(expected)}, got ${show(actual)}`];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
