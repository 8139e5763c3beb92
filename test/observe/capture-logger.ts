import { Writable } from 'node:stream';
import { createLogger, type LoggerOptions } from '../../src/observe/logger.js';

/** A logger writing JSON lines into memory (no environment secrets unless `options.env` gives some), and its lines parsed. */
export function captureLogger(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ destination, env: {}, ...options });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
