// The invoice record every service exchanges.
export function makeInvoice(number, total, code) {
  return { number, total, currency: code };
}

/** What is wrong with an invoice record, if anything. */
export function validateInvoice(invoice) {
  const problems = [];
  if (typeof invoice.number !== 'string' || invoice.number === '') problems.push('number must be a non-empty string');
  if (typeof invoice.total !== 'number' || invoice.total < 0) problems.push('total must be a non-negative number');
  if (!/^[A-Z]{3}$/.test(invoice.currency ?? '')) problems.push('currency must be a three-letter ISO 4217 code');
  return problems;
}
