import assert from 'node:assert';
import { test } from 'node:test';
import { formatTotal, invoiceOf } from './totals.mjs';

test('a total is printed with two decimals and its code', () => {
  assert.ok(formatTotal(invoiceOf('B-9', 12.5, 'EUR')) === '12.50 EUR', 'the statement total is wrong');
});
