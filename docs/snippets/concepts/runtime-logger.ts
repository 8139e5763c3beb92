// The logger is pino: credential fields and known secret values never reach a log line.
import { Writable } from 'node:stream';
import { createLogger, registerSecret } from 'troupe';

// Lines are collected here to print them without their timestamp; a real program logs to stdout.
const lines: string[] = [];
const destination = new Writable({
  write(chunk, _encoding, done) {
    lines.push(String(chunk));
    done();
  },
});

// #region logger
registerSecret('hunter2-webhook-secret'); // a secret that is in no environment variable

// `env` is where secret values are read from (default process.env): here, a password in REDIS_URL.
const env = { ...process.env, REDIS_URL: 'redis://:s3cret-pass@redis.internal:6379' };
const logger = createLogger({ format: 'json', destination, bindings: { service: 'shop' }, env });
logger.info(
  {
    provider: { name: 'anthropic', apiKey: 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz' },
    queue: 'connecting to redis://:s3cret-pass@redis.internal:6379',
    webhook: { headers: { authorization: 'Bearer abc.def' } },
  },
  'called the webhook with hunter2-webhook-secret; the model echoed sk-ant-api03-QWERTYUIOPASDFGHJKL',
);
// #endregion

for (const line of lines) {
  const { time: _time, ...fields } = JSON.parse(line) as Record<string, unknown>;
  console.log(JSON.stringify(fields, null, 2));
}
