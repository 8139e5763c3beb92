import assert from 'node:assert';
import { test } from 'node:test';
import { makeInvoice, validateInvoice } from './index.mjs';

test('a well-formed invoice has no problems', () => {
  assert.ok(validateInvoice(makeInvoice('A-1', 10, 'EUR')).length === 0, 'a valid invoice was refused');
});

test('a code that is not ISO 4217 is refused', () => {
  assert.ok(validateInvoice(makeInvoice('A-1', 10, 'euro')).length === 1, 'a lower-case name was accepted');
});
