import assert from 'node:assert';
import { test } from 'node:test';
import { receiptLine } from './receipt.mjs';

// An invoice record as the billing service sends it.
const invoice = { number: 'W-7', total: 30, currency: 'SEK' };

test('the receipt line shows the total and its code', () => {
  assert.ok(receiptLine(invoice) === 'Total: 30 SEK', `the receipt line reads "${receiptLine(invoice)}"`);
});
