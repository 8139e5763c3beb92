// A scripted model that reads the example's documents the way a careful model would, with one
// realistic slip: on a scan with European number formatting it first copies the total as printed
// ("1.980,00"), which fails the schema, and fixes it when told. It authors the offline cassette
// (author.ts) and plays the model in tests; its model id says `scripted:invoices`.
import type { ModelRequest } from 'troupe';
import { scriptedModel, type ScriptedModel, type ScriptedReply } from 'troupe/testing';

export function documentReader(options: { id?: string } = {}): ScriptedModel {
  return scriptedModel((request) => answer(request), { id: options.id ?? 'scripted:invoices' });
}

function answer(request: ModelRequest): ScriptedReply {
  const last = request.messages.at(-1);
  const prompt = last?.role === 'user' ? last.content : '';
  const retry = /## This is attempt \d+/.test(prompt);
  const doc = (/\n\n([\s\S]*?)(\n\n## This is attempt|$)/.exec(prompt.slice(prompt.indexOf('Source:')))?.[1] ?? '').trim();
  if (request.output?.name === 'classify_output') return JSON.stringify(classify(doc));
  const tool = request.tools?.[0]?.name;
  if (tool === 'record_extract-invoice') return { toolCalls: [{ name: tool, input: readInvoice(doc, retry) }] };
  if (tool === 'record_extract-receipt') return { toolCalls: [{ name: tool, input: readReceipt(doc) }] };
  return 'I cannot help with that request.';
}

function classify(doc: string): { kind: string; reason: string } {
  if (/^(INVOICE|RECHNUNG)\b/im.test(doc)) return { kind: 'invoice', reason: 'It is headed INVOICE and asks for payment by a due date.' };
  if (/^TOTAL [A-Z]{3} /m.test(doc) && /Thank you/i.test(doc)) return { kind: 'receipt', reason: 'It shows a total already paid and thanks the customer.' };
  return { kind: 'other', reason: 'It neither asks for a payment nor confirms one; it is a marketing newsletter.' };
}

/** "1.480,00" (European) or "1480.00" to a number. */
function amount(text: string): number {
  return /,\d{2}$/.test(text) ? Number(text.replace(/\./g, '').replace(',', '.')) : Number(text.replace(/,/g, ''));
}

function find(doc: string, pattern: RegExp): { match: RegExpExecArray; quote: string } | undefined {
  const match = pattern.exec(doc);
  return match ? { match, quote: match[0].trim() } : undefined;
}

function readInvoice(doc: string, retry: boolean) {
  const evidence: Array<{ source: string; quote: string }> = [];
  const take = (pattern: RegExp) => {
    const found = find(doc, pattern);
    if (found) evidence.push({ source: 'document', quote: found.quote });
    return found?.match;
  };
  const number = take(/^(?:RECHNUNG \/ )?INVOICE (\S+)$/m)?.[1] ?? '';
  const vendor = take(/^From: (.+)$/m)?.[1] ?? '';
  const total = take(/Total: ([\d.,]+) ([A-Z]{3})$/m);
  const due = take(/^Due: (\S+)$/m)?.[1] ?? '';
  const lines = [...doc.matchAll(/^- (.+): ([\d.,]+)$/gm)].map((line) => ({ description: line[1]!, amount: amount(line[2]!) }));
  const printed = total?.[1] ?? '0';
  // The slip: a European-formatted total is copied as printed until the validation errors come back.
  const value = /,\d{2}$/.test(printed) && !retry ? printed : amount(printed);
  return { value: { vendor, invoiceNumber: number, total: value, currency: total?.[2] ?? '', dueDate: due, lines }, evidence };
}

function readReceipt(doc: string) {
  const merchant = doc.split('\n')[0]!.trim();
  const total = find(doc, /^TOTAL ([A-Z]{3}) ([\d.]+)$/m);
  const date = find(doc, /^(\d{4}-\d{2}-\d{2})/m);
  const evidence = [
    { source: 'document', quote: merchant },
    ...(total ? [{ source: 'document', quote: total.quote }] : []),
    ...(date ? [{ source: 'document', quote: date.quote }] : []),
  ];
  return { value: { merchant, total: Number(total?.match[2] ?? 0), currency: total?.match[1] ?? '', date: date?.match[1] ?? '' }, evidence };
}
