import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/core/errors/configuration-error.js';
import { DependencyCycleError, defineWorkGraph } from '../../src/work/index.js';
import { lineDiff } from '../../src/work/line-diff.js';

const items = (edges: Record<string, string[]>) => Object.entries(edges).map(([id, dependsOn]) => ({ id, dependsOn }));

describe('defineWorkGraph', () => {
  it('indexes dependents and leaves an acyclic graph unbounded', () => {
    const spec = defineWorkGraph({ name: 'g', items: items({ a: [], b: ['a'], c: ['a', 'b'] }) });
    expect(Object.fromEntries(spec.dependents)).toEqual({ a: ['b', 'c'], b: ['c'], c: [] });
    expect(spec.limits).toEqual({ maxDepth: Infinity, maxUpdatesPerItem: Infinity });
  });

  it('keeps outcomes 7 days and the last 10,000 events unless retention says otherwise, and refuses bad settings', () => {
    expect(defineWorkGraph({ name: 'g', items: items({ a: [] }) }).retention).toEqual({ outcomesMs: 7 * 24 * 3600 * 1000, events: 10_000 });
    expect(defineWorkGraph({ name: 'g', items: items({ a: [] }), retention: { events: 50 } }).retention).toEqual({
      outcomesMs: 7 * 24 * 3600 * 1000,
      events: 50,
    });
    expect(() => defineWorkGraph({ name: 'g', items: items({ a: [] }), retention: { events: 0 } })).toThrow(
      /retention.events must be a whole number of at least 1/,
    );
    expect(() => defineWorkGraph({ name: 'g', items: items({ a: [] }), retention: { days: 3 } as never })).toThrow(/retention.days is not a retention setting/);
  });

  it('finds every cycle when the graph is defined, naming its items, as a configuration error', () => {
    const error = (() => {
      try {
        defineWorkGraph({ name: 'g', items: items({ a: ['c'], b: ['a'], c: ['b'], d: ['e'], e: ['d'], f: ['a'] }) });
      } catch (caught) {
        return caught;
      }
    })() as DependencyCycleError;
    expect(error).toBeInstanceOf(DependencyCycleError);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.code).toBe('work_dependency_cycle');
    expect(error.exitCode).toBe(2);
    expect(error.cycles.map((cycle) => [...cycle].sort())).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    expect(error.message).toMatch(/2 dependency cycles: a → c → b → a; d → e → d/);
    expect(error.message).toMatch(/cycles: 'allow'/);
  });

  it('refuses an item that depends on itself, unless cycles are allowed', () => {
    expect(() => defineWorkGraph({ name: 'g', items: items({ a: ['a'] }) })).toThrow(/a → a/);
    const spec = defineWorkGraph({ name: 'g', cycles: 'allow', items: items({ a: ['a'], b: ['c'], c: ['b'] }) });
    expect(spec.cycles).toHaveLength(2);
    expect(spec.limits).toEqual({ maxDepth: 8, maxUpdatesPerItem: 3 });
  });

  it('names a bad id, a duplicate, an unknown dependency and a bad limit', () => {
    expect(() => defineWorkGraph({ name: 'g', items: [{ id: 'a:b' }] })).toThrow(/field "items\[0\].id": "a:b" is not an item id/);
    expect(() => defineWorkGraph({ name: 'g', items: [{ id: 'a' }, { id: 'a' }] })).toThrow(/item "a" is defined twice/);
    expect(() => defineWorkGraph({ name: 'g', items: items({ a: ['nope'] }) })).toThrow(/item "a" depends on "nope", which the graph does not define/);
    expect(() => defineWorkGraph({ name: 'g', items: [], limits: { maxDepth: 0 } })).toThrow(/limits.maxDepth must be a whole number/);
    expect(() => defineWorkGraph({ name: 'bad name', items: [] })).toThrow(/not a work graph name/);
  });

  it('handles a 10,000-item chain without deep recursion', () => {
    const chain = Array.from({ length: 10_000 }, (_, i) => ({ id: `n${i}`, dependsOn: i === 0 ? [] : [`n${i - 1}`] }));
    expect(defineWorkGraph({ name: 'long', items: chain }).dependents.get('n0')).toEqual(['n1']);
  });
});

describe('lineDiff', () => {
  it('shows changed lines with context and marks skipped parts', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8'].join('\n');
    const after = ['1', '2', '3', 'four', '5', '6', '7', '8', '9'].join('\n');
    expect(lineDiff(before, after)).toBe(['@@', ' 2', ' 3', '-4', '+four', ' 5', ' 6', ' 7', ' 8', '+9'].join('\n'));
    expect(lineDiff(['a', '1', '2', '3', '4', '5', '6', 'b'].join('\n'), ['A', '1', '2', '3', '4', '5', '6', 'B'].join('\n'))).toBe(
      ['-a', '+A', ' 1', ' 2', '@@', ' 5', ' 6', '-b', '+B'].join('\n'),
    );
    expect(lineDiff('same', 'same')).toBe('');
    expect(lineDiff('a\nb', 'c\nd', { maxCells: 2 })).toBeUndefined();
  });
});
