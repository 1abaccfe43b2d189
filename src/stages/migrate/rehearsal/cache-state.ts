// A known cache state before a migration is timed: warm its tables (pg_prewarm into
// shared_buffers, or a sequential read into the OS cache when pg_prewarm cannot be used), or
// leave them. Either way, the share of each table in shared_buffers is measured with
// pg_buffercache when it can be, so the record says how warm the timing really was. Extensions
// the tool creates for this are dropped again: the staging database keeps production's schema.
import type pg from 'pg';
import { ident } from '../../../infra/pg/connection.js';
import type { CacheStateRecord } from '../../../record/run-record.js';

/** A table the migration touches: `schema.table` and its quoted form. */
export interface CacheTable {
  name: string;
  quoted: string;
}

/** Warms (mode warm) and measures the touched tables. Never throws: what failed goes into the note. */
export async function prepareCache(
  client: pg.Client,
  tables: readonly CacheTable[],
  mode: CacheStateRecord['mode'],
): Promise<CacheStateRecord> {
  const record: CacheStateRecord = { mode, tables: [] };
  const notes: string[] = [];
  const sizes = await client.query<{ bytes: string }>(
    'SELECT pg_total_relation_size(to_regclass(t)) AS bytes FROM unnest($1::text[]) AS t',
    [tables.map((table) => table.quoted)],
  );
  for (const [index, table] of tables.entries())
    record.tables.push({ relation: table.name, bytes: Number(sizes.rows[index]?.bytes ?? 0) });

  if (mode === 'warm' && tables.length > 0) {
    const prewarm = await withExtension(client, 'pg_prewarm', async (schema) => {
      for (const [index, table] of tables.entries()) {
        const started = performance.now();
        // The table and every index of it, into shared_buffers (as far as they fit).
        await client.query(
          `SELECT ${schema}.pg_prewarm(c.oid) FROM pg_class c
            WHERE c.oid = $1::regclass
               OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = $1::regclass)`,
          [table.quoted],
        );
        (record.tables[index] as CacheStateRecord['tables'][number]).warmedMs = ms(started);
      }
    });
    if (prewarm.ok) record.method = 'pg_prewarm';
    else {
      notes.push(`pg_prewarm unavailable (${prewarm.error}): read each table instead`);
      record.method = 'read';
      for (const [index, table] of tables.entries()) {
        const started = performance.now();
        await client.query(`SELECT count(*) FROM ${table.quoted}`);
        (record.tables[index] as CacheStateRecord['tables'][number]).warmedMs = ms(started);
      }
      notes.push(
        'a sequential read of a table larger than a quarter of shared_buffers warms the OS cache, not shared_buffers',
      );
    }
  }
  if (mode === 'cold')
    notes.push(
      'not warmed; PostgreSQL cannot evict a table from its caches without a restart, so what was cached is measured instead',
    );

  if (tables.length === 0) {
    if (notes.length > 0) record.note = notes.join('; ');
    return record;
  }
  const measured = await withExtension(client, 'pg_buffercache', async (schema) => {
    const result = await client.query<{ n: number; pct: number | null }>(
      `SELECT t.n::int AS n, round(100.0 * count(b.relfilenode) / nullif(greatest(pg_relation_size(c.oid) / current_setting('block_size')::int, 1), 0), 1)::float8 AS pct
         FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n)
         JOIN pg_class c ON c.oid = to_regclass(t.name)
         LEFT JOIN ${schema}.pg_buffercache b ON b.relfilenode = pg_relation_filenode(c.oid)
               AND b.reldatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
        GROUP BY t.n, c.oid ORDER BY t.n`,
      [tables.map((table) => table.quoted)],
    );
    for (const row of result.rows) {
      const entry = record.tables[row.n - 1];
      if (entry && row.pct !== null) entry.cachedPct = Math.min(100, row.pct);
    }
  });
  if (!measured.ok) notes.push(`share in shared_buffers not measured (pg_buffercache: ${measured.error})`);
  if (notes.length > 0) record.note = notes.join('; ');
  return record;
}

/**
 * Runs `fn` with a contrib extension available: uses it when installed, else creates it and
 * drops it afterwards. Fails (ok: false) when it cannot be created (not installed, no privilege).
 */
async function withExtension(
  client: pg.Client,
  name: string,
  fn: (schema: string) => Promise<void>,
): Promise<{ ok: true } | { ok: false; error: string }> {
  let created = false;
  // Its objects are named with their schema: production's search_path (applied to staging) need
  // not hold the schema the extension is in, or may be empty.
  const schemaOf = () =>
    client.query<{ schema: string }>(
      'SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1',
      [name],
    );
  try {
    let found = await schemaOf();
    if (found.rowCount === 0) {
      // Into public when there is one: an empty search_path leaves CREATE EXTENSION nowhere to go.
      const pub = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = 'public'");
      await client.query(`CREATE EXTENSION ${name}${pub.rowCount ? ' SCHEMA public' : ''}`);
      created = true;
      found = await schemaOf();
    }
    await fn(ident(found.rows[0]?.schema ?? 'public'));
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    if (created) await client.query(`DROP EXTENSION IF EXISTS ${name}`).catch(() => undefined);
  }
}

function ms(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
