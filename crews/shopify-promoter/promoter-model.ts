// A scripted model that plays every model step of the promoter on the shipped storefronts, with
// two realistic slips: a generic first email to the bookshop (no name, nothing about the shop,
// hype) that the check sends back, and a first email to the furniture maker whose
// subject line runs far too long, which code's rules (the email step's checker) send back.
// It authors the offline cassette (author.ts); its model id says `scripted:shopify-promoter`.
import type { ModelRequest } from 'troupe';
import { scriptedModel, type ScriptedModel } from 'troupe/testing';
import { shops, type ShopScript } from './shops.js';

export function promoterModel(options: { id?: string } = {}): ScriptedModel {
  return scriptedModel((request) => JSON.stringify(answer(request)), { id: options.id ?? 'scripted:shopify-promoter' });
}

function answer(request: ModelRequest): unknown {
  const last = request.messages.at(-1);
  const prompt = last?.role === 'user' ? last.content : '';
  const storeId = /^Store: ([a-z0-9-]+)/.exec(prompt)?.[1] ?? '';
  const shop = shops[storeId];
  const task = request.output?.name.replace(/_output$/, '');
  if (!shop) return { error: `I have no notes on a shop called "${storeId}"` };
  const retry = /## This is attempt \d+/.test(prompt);
  switch (task) {
    case 'summarize':
      return shop.summary;
    case 'brainstorm':
      return { ideas: shop.ideas, chosen: shop.chosen, why: shop.why };
    case 'concept':
      return { name: shop.chosen, concept: shop.concept, rationale: shop.rationale, store_id: storeId };
    case 'strategy':
      return shop.strategy;
    case 'subject':
      return { candidates: shop.subjects, subject_line: shop.subjects[0] };
    case 'email':
      return draft(shop, retry);
    case 'check':
      return judge(prompt);
    default:
      return { error: `no script for the task "${task}"` };
  }
}

function draft(shop: ShopScript, retry: boolean): { subject_line: string; body: string } {
  if (shop.firstDraft && !retry) return { subject_line: shop.firstDraft.subject_line ?? shop.subjects[0]!, body: shop.firstDraft.body };
  return { subject_line: shop.subjects[0]!, body: shop.body };
}

/** The judge reads the email in the prompt: a placeholder or a pitch that could go to any shop fails; it does not count characters. */
function judge(prompt: string): { pass: boolean; problems: string[]; feedback: string } {
  const body = prompt.slice(prompt.lastIndexOf('The email:'));
  const problems: string[] = [];
  if (/Hi there,/.test(body)) problems.push('it greets nobody in particular ("Hi there") instead of the shop');
  if (/stores like yours|Thousands of merchants/i.test(body)) problems.push('it could go to any shop: nothing in it is about this one');
  if (/boost your sales|powerful/i.test(body)) problems.push('it leans on hype ("boost your sales", "powerful") instead of saying what the plug-in does');
  return problems.length === 0
    ? { pass: true, problems: [], feedback: '' }
    : {
        pass: false,
        problems,
        feedback:
          'Greet the shop by name, open with the problem the storefront itself shows (the staff picks that sell out in the shop are buried online), say plainly what the plug-in does, and drop the hype.',
      };
}
