import assert from 'node:assert';
import { test } from 'node:test';
import { words } from './index.mjs';

test('a product is indexed by the words of its name and description', () => {
  assert.ok(words({ name: 'Oak Table', description: 'Solid oak.' }).join(' ') === 'oak table solid oak', 'the words are wrong');
});
