import { describe, expect, it } from 'vitest';
import { jsonErrorOffset } from '../../src/core/json-syntax.js';

describe('where a JSON text stops being valid', () => {
  it.each([
    ['{"a":tru}', 5],
    ['{"a":1,}', 7],
    ['[1,2', 4],
    ['{"a" 1}', 5],
    ['"abc', 4],
    ['[1] x', 4],
    ['{\n  "a": [1, 2 ]\n', 17],
    ['["\\x"]', 3],
    ['[01]', 2],
    ['', 0],
  ])('%j fails at %i', (text, offset) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  it('finds nothing wrong in valid JSON', () => {
    for (const text of ['{"a":[1,-2.5e3,true,false,null,"\\u00e9\\n"]}', ' [ ] ', '"x"', '0']) {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(jsonErrorOffset(text)).toBeUndefined();
    }
  });
});
