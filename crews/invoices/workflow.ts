// Documents arrive (scans, e-mails, PDFs turned to text); code decides what happens to each.
// A model classifies the document and extracts fields with the words that support them; code
// routes on the class, checks the extraction (evidence, schema, totals), validates the currency,
// and sends large invoices to a person before they count as accepted.
//
//   classify ─invoice→ extract-invoice → validate-invoice ─high-total→ approve-payment
//            ─receipt→ extract-receipt
//            ─other──→ reject-other
//
// `troupe run invoices --input crews/invoices/documents.json` runs it (offline on
// crews/invoices/cassette.json without an API key); `troupe eval invoices` checks golden.json.
import { z } from 'zod';
import { codeTask, defaultModel, defineWorkflow, extractTask, humanTask, ItemRejectedError, promptTask, type CheckReport } from 'troupe';

/** The live model; `--model` or the cassette replaces it for every task. */
export const liveModel = defaultModel;

/** Invoices above this total (in their own currency; a real one would convert) need a person's approval. */
export const approvalThreshold = 10_000;

/** This workflow's own stages (the engine knows only its own states): where a document stands after each step. */
export type InvoiceStage = 'routed' | 'extracted' | 'validated';

const knownCurrencies = new Set(['EUR', 'USD', 'GBP', 'CHF', 'JPY', 'SEK', 'NOK', 'DKK', 'CAD', 'AUD']);

export const documentSchema = z.object({ source: z.string().describe('Where the document came from'), text: z.string() });
export type Document = z.infer<typeof documentSchema>;

const classification = z.object({ kind: z.enum(['invoice', 'receipt', 'other']), reason: z.string().describe('One sentence: why') });

export const invoiceSchema = z.object({
  vendor: z.string().min(1).describe('Who issued the invoice'),
  invoiceNumber: z.string().min(1),
  total: z.number().nonnegative().describe('The amount due, as a number (1250.5, not "1.250,50")'),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR')
    .describe('ISO 4217 code'),
  dueDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
    .describe('YYYY-MM-DD'),
  lines: z.array(z.object({ description: z.string(), amount: z.number() })).describe('The invoice lines, as printed'),
});
export type Invoice = z.infer<typeof invoiceSchema>;

const receiptSchema = z.object({
  merchant: z.string().min(1),
  total: z.number().nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR'),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD'),
});

const validatedSchema = invoiceSchema.extend({ needsApproval: z.boolean() });
export type ValidatedInvoice = z.infer<typeof validatedSchema>;

/**
 * The lines of an invoice add up to its total (to the cent). The extraction's checker: a failing
 * report goes back to the model once, then to a person. Also a golden check (`{ "check": "totalMatchesLines" }`).
 */
export function totalMatchesLines(output: unknown): CheckReport {
  const invoice = output as Invoice;
  if (invoice.lines.length === 0) return { ok: true, report: 'no lines to add up' };
  const sum = invoice.lines.reduce((total, line) => total + line.amount, 0);
  const ok = Math.abs(sum - invoice.total) < 0.005;
  return {
    ok,
    report: ok
      ? 'lines add up to the total'
      : `the lines add up to ${sum.toFixed(2)} but the total is ${invoice.total.toFixed(2)}; re-read the lines and the total`,
  };
}

const system = 'You process business documents for an accounts-payable team. Use only what the document says.';

const classify = promptTask({
  name: 'classify',
  stage: 'routed' satisfies InvoiceStage,
  input: documentSchema,
  output: classification,
  model: liveModel,
  system,
  prompt: 'Is this document an invoice (a request to pay), a receipt (proof of a payment already made) or something else?\n\nSource: {{source}}\n\n{{text}}',
});

const extractInvoice = extractTask({
  name: 'extract-invoice',
  stage: 'extracted' satisfies InvoiceStage,
  input: documentSchema,
  output: invoiceSchema,
  model: liveModel,
  system,
  prompt:
    'Extract the vendor, invoice number, total, currency, due date and lines of this invoice. Quote the words each value comes from as evidence.\n\nSource: {{source}}\n\n{{text}}',
  policy: {
    evidence: { required: true },
    invalidOutput: { maxRetries: 1, then: 'review' },
    checker: { check: totalMatchesLines, maxRetries: 1 },
  },
});

const extractReceipt = extractTask({
  name: 'extract-receipt',
  stage: 'extracted' satisfies InvoiceStage,
  input: documentSchema,
  output: receiptSchema,
  model: liveModel,
  system,
  prompt:
    'Extract the merchant, total, currency and date of this receipt. Quote the words each value comes from as evidence.\n\nSource: {{source}}\n\n{{text}}',
  policy: { evidence: { required: true } },
});

const validateInvoice = codeTask({
  name: 'validate-invoice',
  stage: 'validated' satisfies InvoiceStage,
  input: invoiceSchema,
  output: validatedSchema,
  run: (invoice) => {
    if (!knownCurrencies.has(invoice.currency))
      throw new ItemRejectedError(`unknown currency ${invoice.currency}: we pay in ${[...knownCurrencies].join(', ')}`);
    if (Number.isNaN(Date.parse(invoice.dueDate))) throw new ItemRejectedError(`the due date ${invoice.dueDate} is not a date`);
    return { ...invoice, needsApproval: invoice.total > approvalThreshold };
  },
});

const approvePayment = humanTask({
  name: 'approve-payment',
  input: validatedSchema,
  output: validatedSchema,
  question: (invoice) =>
    `Approve paying ${invoice.total.toFixed(2)} ${invoice.currency} to ${invoice.vendor} (invoice ${invoice.invoiceNumber}, due ${invoice.dueDate})? It is above ${approvalThreshold}.`,
});

const rejectOther = codeTask({
  name: 'reject-other',
  input: z.object({ source: z.string(), reason: z.string() }),
  output: z.null(),
  run: ({ source, reason }) => {
    throw new ItemRejectedError(`${source} is not an invoice or a receipt: ${reason}`);
  },
});

export default defineWorkflow({
  name: 'invoices',
  input: documentSchema,
  tasks: [classify, extractInvoice, extractReceipt, rejectOther, validateInvoice, approvePayment],
  edges: [
    { from: 'classify', to: 'extract-invoice', when: (c) => c.kind === 'invoice', route: 'invoice', map: (_, item) => item.input },
    { from: 'classify', to: 'extract-receipt', when: (c) => c.kind === 'receipt', route: 'receipt', map: (_, item) => item.input },
    {
      from: 'classify',
      to: 'reject-other',
      when: (c) => c.kind === 'other',
      route: 'other',
      map: (c, item) => ({ source: (item.input as Document).source, reason: c.reason }),
    },
    { from: 'extract-invoice', to: 'validate-invoice' },
    { from: 'validate-invoice', to: 'approve-payment', when: (v: ValidatedInvoice) => v.needsApproval, route: 'high-total' },
  ],
});
