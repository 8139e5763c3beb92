// A model step returns a claim: the value it proposes and the evidence for it. Code decides
// whether the claim may change the item's state: here, a claim without evidence goes to a person.
import { z } from 'zod';
import { claim, codeTask, defineWorkflow, extractTask, listReviews, openStateStore } from 'troupe';
import { scriptedModel } from 'troupe/testing';

// #region extract
const contractSchema = z.object({ source: z.string(), text: z.string() });

// The model must call one tool, record_extract-terms, whose arguments are the output and the evidence for it.
const extractTerms = extractTask({
  name: 'extract-terms',
  input: contractSchema,
  output: z.object({ vendor: z.string(), noticeDays: z.number().int() }),
  prompt: 'Who is the vendor, and how many days of notice does cancelling take? Quote your evidence.\n\n{{text}}',
  policy: { evidence: { required: true } }, // no evidence: the claim is unsupported and a person decides
});

// A code task can attach evidence too, by returning claim(value, evidence) instead of the value.
const lookUpVendor = codeTask({
  name: 'look-up-vendor',
  input: z.object({ vendor: z.string(), noticeDays: z.number() }),
  output: z.object({ vendorId: z.string() }),
  run: ({ vendor }) => claim({ vendorId: `V-${vendor.length}` }, [{ source: 'vendor registry', ref: `vendors?name=${vendor}` }]),
});
// #endregion

const contracts = defineWorkflow({ name: 'contracts', input: contractSchema, tasks: [extractTerms, lookUpVendor] });

// The scripted model quotes the contract for the first document and gives no evidence for the second.
const model = scriptedModel((request) => {
  const cited = JSON.stringify(request.messages).includes('Globex');
  return {
    toolCalls: [
      {
        name: 'record_extract-terms',
        input: cited
          ? { value: { vendor: 'Globex', noticeDays: 90 }, evidence: [{ source: 'contract', quote: 'terminate with ninety (90) days written notice' }] }
          : { value: { vendor: 'Initech', noticeDays: 30 }, evidence: [] },
      },
    ],
  };
});

const store = await openStateStore();
const summary = await contracts.run(
  [
    { id: 'globex', input: { source: 'globex.pdf', text: 'Globex may terminate with ninety (90) days written notice.' } },
    { id: 'initech', input: { source: 'initech.pdf', text: 'Initech services renew each year.' } },
  ],
  { store, model },
);
for (const item of summary.items) console.log(`${item.id}: ${item.state}`, item.outputs);
for (const review of await listReviews(store, { runId: summary.runId }))
  console.log(`review of ${review.item}: [${review.policy}] ${review.what}; proposal ${JSON.stringify(review.proposal)}`);
await store.close();
