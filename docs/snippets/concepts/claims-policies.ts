// Policies in code: an invalid answer escalates to a stronger model, a checker sends a wrong total
// back with its report, and every rule that fires is a recorded transition.
import { z } from 'zod';
import { defineWorkflow, extractTask, openStateStore, type CheckReport } from 'troupe';
import { scriptedModel } from 'troupe/testing';

const invoiceSchema = z.object({ total: z.number(), lines: z.array(z.number()) });

// A check in code: the lines must add up to the total.
function totalMatchesLines(invoice: z.infer<typeof invoiceSchema>): CheckReport {
  const sum = invoice.lines.reduce((a, b) => a + b, 0);
  return sum === invoice.total ? { ok: true, report: 'lines add up' } : { ok: false, report: `the lines add up to ${sum}, not ${invoice.total}` };
}

// Two scripted models: the cheap one writes the total as text; the strong one misreads it once, then fixes it.
const evidence = [{ source: 'invoice', quote: 'Total: 1,980.00' }];
const cheap = scriptedModel([{ toolCalls: [{ name: 'record_extract', input: { value: { total: '1.980,00', lines: [1480, 500] }, evidence } }] }], {
  id: 'cheap',
});
const strong = scriptedModel(
  [
    { toolCalls: [{ name: 'record_extract', input: { value: { total: 1890, lines: [1480, 500] }, evidence } }] },
    { toolCalls: [{ name: 'record_extract', input: { value: { total: 1980, lines: [1480, 500] }, evidence } }] },
  ],
  { id: 'strong' },
);

// #region policy
const extract = extractTask({
  name: 'extract',
  input: z.object({ text: z.string() }),
  output: invoiceSchema,
  prompt: 'Extract the total and the line amounts of this invoice, with evidence.\n\n{{text}}',
  policy: {
    escalate: { models: [cheap, strong] }, // cheap first; the next takes over after an invalid answer or a failed check
    invalidOutput: { maxRetries: 1, then: 'review' }, // retry with the validation errors, then a person (or 'fail')
    evidence: { required: true }, // a claim without evidence is unsupported: a person decides (or onMissing: 'reject')
    checker: { check: totalMatchesLines, maxRetries: 1 }, // the report goes into the retry; past it, a person
  },
});
// #endregion

const invoices = defineWorkflow({ name: 'invoice-totals', input: z.object({ text: z.string() }), tasks: [extract] });
const store = await openStateStore();
const summary = await invoices.run([{ id: 'mueller-5521', input: { text: 'Scaffolding 1.480,00\nTransport 500,00\nTotal: 1,980.00' } }], {
  store,
  trace: (e) => e.type === 'item-transition' && console.log(e.policy ? `[${e.policy}] ${e.why}` : e.why),
});
console.log(summary.status, summary.items[0]?.outputs.extract);
await store.close();
