import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const fixture = pathToFileURL(resolve('test/reliability/fixtures/sidefx.mjs')).href;

/**
 * Lays out a project in `dir` whose crews/<name>/workflow.js are the side-effect fixture's
 * workflows (test/reliability/fixtures/sidefx.mjs), and returns the environment a `troupe`
 * process (or the fixture) needs there: no model keys, the transpiled Troupe under `build`, the
 * home under `dir`, and Redis under `prefix` when a URL is given.
 */
export function sidefxProject(dir: string, build: string, crews: readonly string[], redis?: { url: string; prefix: string }): Record<string, string> {
  for (const name of crews) {
    mkdirSync(join(dir, 'crews', name), { recursive: true });
    writeFileSync(join(dir, 'crews', name, 'workflow.js'), `export { default } from '${fixture}?workflow=${name}';\n`);
  }
  return {
    ...(process.env as Record<string, string>),
    ANTHROPIC_API_KEY: '',
    OPENAI_API_KEY: '',
    USER: 'tester',
    SIDEFX_TROUPE: pathToFileURL(join(build, 'src', 'index.js')).href,
    SIDEFX_DIR: dir,
    TROUPE_HOME: join(dir, 'home'),
    REDIS_URL: redis?.url ?? '',
    TROUPE_REDIS_PREFIX: redis?.prefix ?? '',
  };
}
