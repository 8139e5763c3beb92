// Refund requests: a model reads each customer email and claims what it asks for, with the words
// that say so; code decides the route. Small refunds go through; a large one waits for a person.
//
// #region diagram
//   extract → decide ─small──────────────→ refund
//                └──large──→ approve ──────↗   (a person's step)
// #endregion
// #region tasks
import { z } from 'zod';
import { codeTask, defaultModel, defineWorkflow, extractTask, humanTask } from 'troupe';

/** Refunds up to this amount need no person. */
export const autoRefundLimitUsd = 50;

const emailSchema = z.object({ from: z.string(), text: z.string() });
const requestSchema = z.object({
  orderId: z.string().describe('The order id, such as A-1001'),
  amountUsd: z.number().positive().describe('The amount to refund, in US dollars'),
});
type RefundRequest = z.infer<typeof requestSchema>;

// A model task: the model must call one tool whose arguments are the value and the evidence for it.
// What it returns is a claim; the policy below sends a claim without evidence to a person.
const extract = extractTask({
  name: 'extract',
  input: emailSchema,
  output: requestSchema,
  model: defaultModel,
  prompt: 'Find the order and the amount this customer wants refunded. Quote the words that say so.\n\nFrom: {{from}}\n\n{{text}}',
  policy: { evidence: { required: true } },
});

// Code tasks: plain functions, checked against their schemas like everything else.
const decide = codeTask({
  name: 'decide',
  input: requestSchema,
  output: requestSchema.extend({ large: z.boolean() }),
  run: (request) => ({ ...request, large: request.amountUsd > autoRefundLimitUsd }),
});

// A person's step: the item waits in awaiting-review until someone approves it (or rejects it).
const approve = humanTask({
  name: 'approve',
  input: requestSchema,
  output: requestSchema,
  question: (request) => `Refund ${request.amountUsd} USD for order ${request.orderId}?`,
});

const refund = codeTask({
  name: 'refund',
  input: requestSchema,
  output: z.object({ refunded: z.string() }),
  run: ({ orderId, amountUsd }) => ({ refunded: `${amountUsd.toFixed(2)} USD for ${orderId}` }),
});
// #endregion

// #region workflow
export default defineWorkflow({
  name: 'refunds',
  input: emailSchema,
  tasks: [extract, decide, approve, refund],
  edges: [
    { from: 'extract', to: 'decide' },
    // Code owns the route: each edge says when it is taken, and names the route for the record.
    {
      from: 'decide',
      to: 'refund',
      when: (d: { large: boolean }) => !d.large,
      route: 'small',
      map: ({ orderId, amountUsd }: RefundRequest) => ({ orderId, amountUsd }),
    },
    {
      from: 'decide',
      to: 'approve',
      when: (d: { large: boolean }) => d.large,
      route: 'large',
      map: ({ orderId, amountUsd }: RefundRequest) => ({ orderId, amountUsd }),
    },
    { from: 'approve', to: 'refund', map: (request: RefundRequest) => request },
  ],
  // One item at a time, so a scripted model's replies answer the items in the order they are listed.
  concurrency: 1,
});
// #endregion
