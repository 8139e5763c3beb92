// The last line of a receipt, rendered from an invoice record.
export function receiptLine(invoice) {
  return `Total: ${invoice.total} ${invoice.currency}`;
}
