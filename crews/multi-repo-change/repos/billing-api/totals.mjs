// Totals as the billing service prints them on statements.
export function invoiceOf(number, total, code) {
  return { number, total, currency: code };
}

export function formatTotal(invoice) {
  return `${invoice.total.toFixed(2)} ${invoice.currency}`;
}
