import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideReview, evaluateWorkflow, listReviews, loadGolden, type ModelRequest, type StateStore, type WorkItemInput } from 'troupe';
import { FileStore } from 'troupe/store';
import { scriptedModel } from 'troupe/testing';
import { documentReader } from '../../crews/invoices/document-reader.js';
import invoices, { totalMatchesLines, type Document } from '../../crews/invoices/workflow.js';
import { readTransitions } from '../../src/workflow/run-state.js';

const store = (): StateStore => new FileStore({ root: mkdtempSync(join(tmpdir(), 'invoices-test-')) });
const documents = JSON.parse(readFileSync('crews/invoices/documents.json', 'utf8')) as WorkItemInput<Document>[];
const cassette = 'replay:crews/invoices/cassette.json';
const acme = documents.find((d) => d.id === 'acme-0117')!;

/** The document reader, with one answer replaced: how a test makes the model misbehave. */
function readerExcept(tool: string, answer: (request: ModelRequest, index: number) => unknown) {
  const reader = documentReader();
  let calls = 0;
  return scriptedModel(async (request) => {
    if (request.tools?.[0]?.name === tool) return { toolCalls: [{ name: tool, input: answer(request, calls++) }] };
    const response = await reader.generate(request);
    const part = response.content[0]!;
    return part.type === 'text' ? part.text : { toolCalls: [{ name: part.name, input: part.input }] };
  });
}

describe('crews/invoices', () => {
  it('routes documents offline from its cassette: invoices, receipts, the rest rejected, large totals to a person', async () => {
    const states = store();
    const summary = await invoices.run(documents, { store: states, model: cassette });
    expect(summary.status).toBe('awaiting-review');
    expect(summary.counts).toEqual({ accepted: 3, rejected: 1, 'awaiting-review': 1 });
    const byId = Object.fromEntries(summary.items.map((item) => [item.id, item]));
    expect(byId['acme-0117']!.outputs['validate-invoice']).toMatchObject({
      vendor: 'ACME Office Supplies GmbH',
      total: 1250,
      currency: 'EUR',
      dueDate: '2025-07-02',
      needsApproval: false,
    });
    expect(byId['cafe-lumiere']!.outputs['extract-receipt']).toEqual({ merchant: 'Café Lumière', total: 7.8, currency: 'EUR', date: '2025-06-05' });
    expect(byId['newsletter-june']!.reason).toMatch(/^inbox\/newsletter.eml is not an invoice or a receipt/);

    const transitions = await readTransitions(states, summary.runId);
    const routes = (item: string) => transitions.filter((t) => t.item === item && t.route).map((t) => t.route);
    expect(routes('contoso-4410')).toEqual(['invoice', 'high-total']);
    expect(routes('cafe-lumiere')).toEqual(['receipt']);
    // The scan's total came back as "1.980,00" first: retried with the validation errors, then accepted.
    expect(transitions.filter((t) => t.item === 'mueller-5521' && t.policy).map((t) => t.policy)).toEqual(['invalid-output', 'invalid-output.retry']);
    expect(byId['mueller-5521']!.outputs['extract-invoice']).toMatchObject({ total: 1980, currency: 'CHF' });
    const extracted = transitions.find((t) => t.item === 'acme-0117' && t.task === 'extract-invoice' && t.claim)!;
    expect(extracted.claim!.evidence).toContainEqual({ source: 'document', quote: 'Total: 1250.00 EUR' });

    const [review] = await listReviews(states, { runId: summary.runId, status: 'pending' });
    expect(review).toMatchObject({
      item: 'contoso-4410',
      task: 'approve-payment',
      kind: 'input',
      policy: 'human-step',
      proposal: { total: 48000, currency: 'USD' },
    });
    expect(review!.what).toBe('Approve paying 48000.00 USD to Contoso Cloud Services Inc. (invoice 88-4410, due 2025-07-15)? It is above 10000.');
  });

  it('accepts a large invoice once a person approves it, and rejects it when they do not', async () => {
    for (const approved of [true, false]) {
      const states = store();
      const contoso = documents.filter((d) => d.id === 'contoso-4410');
      const first = await invoices.run(contoso, { store: states, model: cassette });
      const [review] = await listReviews(states, { runId: first.runId, status: 'pending' });
      await decideReview(states, review!.id, { approved, by: 'alice', note: approved ? 'contract checked' : 'not ordered' });
      const resumed = await invoices.resume(first.runId, { store: states, model: cassette });
      expect(resumed.items[0]).toMatchObject(
        approved
          ? { state: 'accepted', outputs: { 'approve-payment': { total: 48000 } } }
          : { state: 'rejected', reason: expect.stringContaining('rejected by alice: not ordered') },
      );
    }
  });

  it('sends an extraction without evidence to review', async () => {
    const states = store();
    const model = readerExcept('record_extract-invoice', () => ({
      value: { vendor: 'ACME', invoiceNumber: '1', total: 10, currency: 'EUR', dueDate: '2025-07-02', lines: [] },
      evidence: [],
    }));
    const summary = await invoices.run([acme], { store: states, model });
    expect(summary.items[0]!.state).toBe('awaiting-review');
    expect((await listReviews(states))[0]).toMatchObject({ task: 'extract-invoice', policy: 'evidence.missing', findings: ['no evidence was given'] });
  });

  it('gives lines that do not add up back to the model once, then to a person', async () => {
    const states = store();
    const model = readerExcept('record_extract-invoice', () => ({
      value: { vendor: 'ACME', invoiceNumber: '1', total: 1300, currency: 'EUR', dueDate: '2025-07-02', lines: [{ description: 'paper', amount: 1250 }] },
      evidence: [{ source: 'document', quote: 'Total: 1300.00 EUR' }],
    }));
    const summary = await invoices.run([acme], { store: states, model });
    const policies = (await readTransitions(states, summary.runId)).map((t) => t.policy).filter(Boolean);
    expect(policies).toEqual(['checker.failed', 'checker.retry', 'checker.failed', 'checker.exhausted']);
    expect((await listReviews(states))[0]!.findings).toEqual(['the lines add up to 1250.00 but the total is 1300.00; re-read the lines and the total']);
    expect(model.callCount).toBe(3); // classify, then two extraction attempts
  });

  it('rejects an invoice in a currency it does not pay in', async () => {
    const model = readerExcept('record_extract-invoice', () => ({
      value: { vendor: 'ACME', invoiceNumber: '1', total: 10, currency: 'XYZ', dueDate: '2025-07-02', lines: [] },
      evidence: [{ source: 'document', quote: 'Total: 10 XYZ' }],
    }));
    const summary = await invoices.run([acme], { store: store(), model });
    expect(summary.items[0]).toMatchObject({ state: 'rejected', reason: expect.stringMatching(/^unknown currency XYZ: we pay in EUR, USD/) });
  });

  it('passes its golden examples offline', async () => {
    const report = await evaluateWorkflow(invoices, {
      golden: loadGolden('crews/invoices/golden.json'),
      checks: { totalMatchesLines },
      model: cassette,
      store: store(),
    });
    expect(report.result.examples.filter((e) => !e.passed)).toEqual([]);
    expect(report.result.examples.map((e) => e.route.join(' → '))).toEqual(['invoice', 'receipt', 'other', 'invoice → high-total', 'invoice', '', '']);
  });
});
