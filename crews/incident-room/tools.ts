// The incident room's tools over a recorded outage (fixtures): search_logs over the checkout
// service's log lines, and db_stats, the database's connection statistics at the time. Both are
// reads. The default export is what `troupe run incident-room` loads.
import { z } from 'zod';
import { defineTool, type Tool } from 'troupe';

export const logLines = [
  '13:58:12 INFO  deploy v3.8.1 started (changes: report-export concurrency 10 → 80)',
  '14:00:03 INFO  report-export job started: 80 workers',
  '14:01:47 WARN  checkout db pool: 92 of 100 connections in use',
  '14:02:05 ERROR checkout POST /orders: timeout acquiring a database connection after 5000 ms',
  '14:02:06 ERROR checkout POST /orders: timeout acquiring a database connection after 5000 ms',
  '14:02:30 ERROR payments callback /orders/confirm: timeout acquiring a database connection after 5000 ms',
  '14:03:10 WARN  checkout error rate 38% (threshold 2%)',
  '14:04:00 INFO  search GET /products: 200 in 41 ms',
];

export const dbStats = {
  pool: { max: 100, inUse: 100, waiting: 57 },
  connectionsByClient: { 'report-export': 80, checkout: 14, payments: 4, search: 2 },
  longestQueries: [{ client: 'report-export', query: 'SELECT … FROM orders JOIN order_lines … (full scan)', runningFor: '4m 10s' }],
};

export const searchLogsTool = defineTool({
  name: 'search_logs',
  description: 'Searches the checkout service logs of the last hour for lines containing any of the words given (case-insensitive).',
  input: z.object({ words: z.array(z.string().min(1)).min(1).describe('e.g. ["error", "timeout"]') }),
  sideEffects: 'read',
  run: ({ words }) => {
    const hits = logLines.filter((line) => words.some((word) => line.toLowerCase().includes(word.toLowerCase())));
    return hits.length > 0 ? hits : `No log line contains any of: ${words.join(', ')}.`;
  },
});

export const dbStatsTool = defineTool({
  name: 'db_stats',
  description: "The database's connection pool, connections by client, and its longest-running queries, now.",
  input: z.object({}),
  sideEffects: 'read',
  run: () => dbStats,
});

export default function tools(): Tool[] {
  return [searchLogsTool, dbStatsTool];
}
