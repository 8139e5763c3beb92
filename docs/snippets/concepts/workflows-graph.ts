// A graph: two branches run at once and join, then a route picks what happens next.
import { z } from 'zod';
import { codeTask, defineWorkflow, openStateStore } from 'troupe';

const orderSchema = z.object({ sku: z.string(), quantity: z.number().int().positive() });
const stockLevels: Record<string, number> = { 'mug-blue': 40, 'mug-red': 0 };
const prices: Record<string, number> = { 'mug-blue': 12.5, 'mug-red': 12.5 };

// #region graph
const receive = codeTask({ name: 'receive', input: orderSchema, output: orderSchema, run: (order) => order });
const price = codeTask({
  name: 'price',
  input: orderSchema,
  output: z.object({ total: z.number() }),
  run: (order) => ({ total: order.quantity * (prices[order.sku] ?? 0) }),
});
const stock = codeTask({
  name: 'stock',
  input: orderSchema,
  output: z.object({ inStock: z.boolean() }),
  run: (order) => ({ inStock: (stockLevels[order.sku] ?? 0) >= order.quantity }),
});
// A join: it receives the outputs of the branches that ran, by task name.
const quote = codeTask({
  name: 'quote',
  input: z.object({ price: z.object({ total: z.number() }), stock: z.object({ inStock: z.boolean() }) }),
  output: z.object({ total: z.number(), inStock: z.boolean() }),
  run: ({ price, stock }) => ({ total: price.total, inStock: stock.inStock }),
});
const ship = codeTask({ name: 'ship', input: z.object({ total: z.number() }), output: z.string(), run: ({ total }) => `shipped, ${total} EUR charged` });
const backorder = codeTask({ name: 'backorder', input: z.object({ sku: z.string() }), output: z.string(), run: ({ sku }) => `${sku} backordered` });

const orders = defineWorkflow({
  name: 'orders',
  input: orderSchema,
  tasks: [receive, price, stock, quote, ship, backorder],
  edges: [
    { from: 'receive', to: 'price' },
    { from: 'receive', to: 'stock' },
    { from: 'price', to: 'quote' },
    { from: 'stock', to: 'quote' },
    // Routes: taken only when `when` holds; `map` builds the next task's input.
    { from: 'quote', to: 'ship', when: (q) => q.inStock, route: 'in-stock' },
    { from: 'quote', to: 'backorder', when: (q) => !q.inStock, route: 'out-of-stock', map: (_, item) => item.input },
  ],
});
// #endregion

const store = await openStateStore();
const summary = await orders.run(
  [
    { id: 'order-1', input: { sku: 'mug-blue', quantity: 2 } },
    { id: 'order-2', input: { sku: 'mug-red', quantity: 1 } },
  ],
  { store },
);
for (const item of summary.items) console.log(item.id, item.state, '-', item.outputs.ship ?? item.outputs.backorder);
await store.close();
