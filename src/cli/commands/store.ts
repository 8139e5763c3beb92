import { existsSync, renameSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigurationError } from '../../core/errors/configuration-error.js';
import { embeddedStorePaths, resolveBackend } from '../../store/backend.js';
import { FileStore } from '../../store/file-store.js';
import { importFileStore } from '../../store/import-file-store.js';
import { SqliteStore } from '../../store/sqlite-store.js';

/** `troupe store import`: moves the file store of an earlier Troupe into the SQLite store. */
export function registerStore(program: Command): void {
  const store = program.command('store').description('The embedded state store (SQLite under TROUPE_HOME)');
  store
    .command('import')
    .description('Copy the file store an earlier Troupe wrote (<TROUPE_HOME>/state/) into the SQLite store, then set the old folder aside')
    .option('--from <dir>', 'the file store to copy (default <TROUPE_HOME>/state)')
    .action(async (flags: { from?: string }) => {
      const backend = resolveBackend();
      if (backend.kind !== 'embedded')
        throw new ConfigurationError('REDIS_URL is set: the state is in Redis, and there is no embedded store to import into. Unset it to import.', {
          field: 'REDIS_URL',
        });
      const paths = embeddedStorePaths(backend.home);
      const from = flags.from ?? paths.fileStore;
      if (!existsSync(from)) throw new ConfigurationError(`there is no file store at ${from}`, { field: '--from' });
      const target = new SqliteStore({ path: paths.database });
      try {
        const report = await importFileStore(new FileStore({ root: from }), target, (progress) => {
          if (process.stderr.isTTY) process.stderr.write(`\rcopied ${progress.documents} documents, ${progress.streams} streams`);
        });
        if (process.stderr.isTTY) process.stderr.write('\n');
        // Set aside, not deleted: the copy can be checked, and the old store is back with one rename.
        const asideTo = `${from}.imported-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        if (!flags.from) renameSync(from, asideTo);
        process.stdout.write(
          `Imported ${report.documents} documents and ${report.streams} streams (${report.entries} entries) into ${paths.database}.` +
            (flags.from ? '\n' : ` The file store is set aside at ${asideTo}.\n`),
        );
      } finally {
        await target.close();
      }
    });
}
