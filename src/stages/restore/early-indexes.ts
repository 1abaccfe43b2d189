// A table's indexes and keys are built as soon as its rows are in: a bare `pg_restore -j` builds
// an index of a loaded table while other tables still load, and a masked restore that waited for
// its last masked row left the server idle while the tool masked, then made it build every index
// after. Foreign keys and everything else stay in the one post-data pass at the end.
import { onlyEntries, withoutEntries } from '../../dump/outbound-entries.js';
import { indexEntries, type TableIndexes, tableIndexes } from '../../dump/table-indexes.js';
import type { TocEntry } from '../../dump/toc.js';
import type { RestoreRecord } from '../../record/run-record.js';
import type { LoadedTables } from './anonymized-data.js';

/** What was built early, for the run record. */
export type EarlyIndexesRecord = NonNullable<RestoreRecord['earlyIndexes']>;

export class EarlyIndexes {
  private readonly started = new Set<TocEntry>();
  private runs = 0;
  private tables = 0;
  private durationMs = 0;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly byTable: TableIndexes,
    private readonly writeList: (name: string, listing: string) => Promise<string>,
    private readonly restore: (listFile: string, signal: AbortSignal, single: boolean) => Promise<void>,
  ) {}

  /** Nothing built early: every index in the post-data pass. */
  static none(): EarlyIndexes {
    return new EarlyIndexes(
      new Map(),
      () => Promise.resolve(''),
      () => Promise.resolve(),
    );
  }

  /**
   * Finds the index entries of `tables` (plain tables: a partitioned table's indexes are attached
   * to its partitions' and wait for all of them) in the archive.
   */
  static async plan(options: {
    archive: string;
    listing: string;
    entries: readonly TocEntry[];
    tables: ReadonlySet<string>;
    /** Writes a `-L` list in the run's own directory (the restore's writer) and returns its path. */
    writeList: (name: string, listing: string) => Promise<string>;
    signal: AbortSignal;
    /** Runs pg_restore's post-data with a list; `single`: one table's, beside streams still loading. */
    restore: (listFile: string, signal: AbortSignal, single: boolean) => Promise<void>;
  }): Promise<EarlyIndexes> {
    const candidates = indexEntries(options.listing, options.entries);
    let byTable: TableIndexes = new Map();
    if (candidates.length > 0 && options.tables.size > 0) {
      const listFile = await options.writeList(
        'restore-indexes.list',
        onlyEntries(options.listing, candidates),
      );
      byTable = await tableIndexes(options.archive, listFile, candidates, options.tables, options.signal);
    }
    return new EarlyIndexes(byTable, options.writeList, options.restore);
  }

  /**
   * Builds the indexes of tables whose rows are all in (each entry once). One build at a time
   * (beside the streams still loading, more would only take their server time and connections):
   * one masked table's on one connection, the other tables' on `jobs`.
   */
  build(loaded: LoadedTables, listing: string, signal: AbortSignal): Promise<void> {
    const tables =
      'table' in loaded
        ? [loaded.table]
        : [...this.byTable.keys()].filter((table) => !loaded.allBut.has(table));
    const entries = tables
      .flatMap((table) => this.byTable.get(table) ?? [])
      .filter((entry) => !this.started.has(entry));
    if (entries.length === 0) return Promise.resolve();
    for (const entry of entries) this.started.add(entry);
    this.tables += tables.filter((table) => this.byTable.has(table)).length;
    const name = `restore-indexes-${++this.runs}.list`;
    const run = this.queue.then(async () => {
      const listFile = await this.writeList(name, onlyEntries(listing, entries));
      const began = performance.now();
      await this.restore(listFile, signal, 'table' in loaded);
      this.durationMs += performance.now() - began;
    });
    // The next build waits for this one, not for its success: a failure stops the restore anyway.
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** `listing` without the entries built early: what the post-data pass still has to do. */
  rest(listing: string): string {
    return withoutEntries(listing, [...this.started]);
  }

  record(): EarlyIndexesRecord | undefined {
    if (this.started.size === 0) return undefined;
    return { tables: this.tables, entries: this.started.size, durationMs: Math.round(this.durationMs) };
  }
}
