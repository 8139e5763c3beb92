// A bare BullMQ worker with an empty processor: the ceiling bench/propagation.ts compares with.
// argv: <redis url> <queue name> <prefix> <concurrency>
import { Worker } from 'bullmq';

const [url, name, prefix, concurrency] = process.argv.slice(2) as [string, string, string, string];
const worker = new Worker(name, async () => null, { connection: { url, maxRetriesPerRequest: null }, prefix, concurrency: Number(concurrency) });
worker.on('error', () => {});
await worker.waitUntilReady();
process.stderr.write('serving\n');
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
