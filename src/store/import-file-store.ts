import type { FileStore } from './file-store.js';
import type { SqliteStore } from './sqlite-store.js';

export interface ImportReport {
  documents: number;
  streams: number;
  entries: number;
}

/**
 * Copies everything a file store holds (the embedded default before SQLite) into a SQLite store:
 * documents with their versions and expiries, streams with their sequence numbers and
 * idempotency keys. Safe to run again: each document and stream is replaced whole, so a second
 * run after a crash finishes the copy. Run it while no other process writes the file store.
 */
export async function importFileStore(source: FileStore, target: SqliteStore, onProgress?: (report: ImportReport) => void): Promise<ImportReport> {
  const report: ImportReport = { documents: 0, streams: 0, entries: 0 };
  for (const collection of await source.collections()) {
    let after: string | undefined;
    do {
      const page = await source.list(collection, { limit: 500, ...(after !== undefined ? { after } : {}) });
      // A damaged document stops the import: copying the rest would hide that it was lost.
      if (page.corrupt?.length) throw page.corrupt[0];
      for (const item of page.items) {
        const document = await source.documentWithExpiry(collection, item.id);
        if (!document) continue;
        await target.importDocument(collection, item.id, document);
        report.documents++;
      }
      onProgress?.({ ...report });
      after = page.next;
    } while (after !== undefined);
  }
  for (const stream of await source.streams()) {
    const entries = await source.entriesWithKeys(stream);
    const lastSeq = entries.at(-1)?.seq ?? 0;
    await target.importStream(stream, entries, lastSeq);
    report.streams++;
    report.entries += entries.length;
    onProgress?.({ ...report });
  }
  return report;
}
