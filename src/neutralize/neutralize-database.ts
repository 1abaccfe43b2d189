// Neutralizes, in the new database and before anything runs in it, every object that could reach
// outside staging: foreign servers lose their connection options (postgres_fdw and dblink_fdw
// servers point at a name that never resolves), user mappings are dropped, event triggers
// disabled, subscriptions dropped, pg_cron jobs deleted, functions that call dblink get a body
// that raises, and so do views that call it; a materialized view that calls it is never
// refreshed. Objects named in `neutralize.keep` are left as they are and listed as kept.
import type pg from 'pg';
import type { NeutralizeKeep } from '../config/schema.js';
import { GuardError } from '../errors.js';
import { DEFAULT_PG_PORT, resolveEndpoint, sameHost } from '../infra/net/endpoint.js';
import { ident, literal, qualifiedName } from '../infra/pg/connection.js';
import type { NeutralizedRecord } from '../record/run-record.js';
import { tableKey, tableKeySql } from '../sql/table-key.js';

/** The host a neutralized postgres_fdw/dblink_fdw server points at: `.invalid` never resolves (RFC 2606). */
export const NEUTRALIZED_HOST = 'neutralized-by-staging-refresh.invalid';

/** Which classes of object a pass looks at. */
export type NeutralizeKind = 'servers' | 'event-triggers' | 'subscriptions' | 'cron' | 'functions' | 'views';

const ALL: readonly NeutralizeKind[] = [
  'servers',
  'event-triggers',
  'subscriptions',
  'cron',
  'functions',
  'views',
];
const LIBPQ_FDWS = new Set(['postgres_fdw', 'dblink_fdw']);
const EVENT_STATE: Record<string, string> = { O: 'enabled', R: 'enabled replica', A: 'enabled always' };

/** Neutralizes what `kinds` names in the database `client` is connected to; returns what it did. */
export async function neutralizeDatabase(
  client: pg.Client,
  keep: readonly NeutralizeKeep[],
  kinds: readonly NeutralizeKind[] = ALL,
  productionHosts: readonly string[] = [],
): Promise<NeutralizedRecord[]> {
  const kept = (kind: NeutralizeKeep['kind'], name: string) =>
    keep.find((entry) => entry.kind === kind && entry.name === name);
  const done: NeutralizedRecord[] = [];
  // Event triggers first: the DDL below would fire them.
  if (kinds.includes('event-triggers')) done.push(...(await eventTriggers(client, kept)));
  if (kinds.includes('servers')) done.push(...(await servers(client, kept, productionHosts)));
  if (kinds.includes('subscriptions')) done.push(...(await subscriptions(client, kept)));
  if (kinds.includes('cron')) done.push(...(await cronJobs(client, kept)));
  if (kinds.includes('functions')) done.push(...(await dblinkFunctions(client, kept)));
  if (kinds.includes('views')) done.push(...(await dblinkViews(client, kept)));
  return done;
}

/**
 * Views and materialized views that call the dblink extension's functions directly (a literal
 * connection string in the view). A view gets a definition with the same columns that raises
 * when read; a materialized view is reported `not-refreshed`: its data entry must not be
 * restored (`REFRESH` would connect), which the caller arranges from the returned names.
 */
async function dblinkViews(client: pg.Client, kept: Kept): Promise<NeutralizedRecord[]> {
  const done: NeutralizedRecord[] = [];
  const { rows } = await client.query<{
    schema: string;
    name: string;
    kind: string;
    columns: { name: string; type: string }[];
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
            (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod))
                             ORDER BY a.attnum)
               FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('v', 'm')
        AND EXISTS (
          SELECT 1 FROM pg_rewrite r
            JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                            AND d.refclassid = 'pg_proc'::regclass
            JOIN pg_proc p ON p.oid = d.refobjid AND p.proname ~ '^dblink'
            JOIN pg_depend e ON e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e'
            JOIN pg_extension x ON x.oid = e.refobjid AND x.extname = 'dblink'
           WHERE r.ev_class = c.oid)
      ORDER BY 1, 2`,
  );
  for (const view of rows) {
    const qualified = tableKey(view.schema, view.name);
    const keepEntry = kept('view', qualified);
    const kind = view.kind === 'm' ? 'materialized-view' : 'view';
    if (keepEntry) {
      done.push(keptRecord(kind, qualified, 'calls dblink', keepEntry));
      continue;
    }
    if (view.kind === 'm') {
      done.push({
        kind,
        name: qualified,
        action: 'not-refreshed',
        detail: 'calls dblink: left unpopulated (a REFRESH would connect out of staging)',
      });
      continue;
    }
    // Same columns, same types; reading it raises (the cast runs when a query is planned).
    const message = literal(`${qualified} was neutralized by staging-refresh: it calls dblink`);
    const list = view.columns.map((column) => `NULL::${column.type} AS ${ident(column.name)}`).join(', ');
    try {
      await client.query(
        `CREATE OR REPLACE VIEW ${qualifiedName(view.schema, view.name)} AS SELECT ${list} WHERE (${message} || '')::int IS NULL`,
      );
      done.push({
        kind,
        name: qualified,
        action: 'definition-replaced',
        detail: 'called dblink; reading it now raises an error',
      });
    } catch (error) {
      done.push({
        kind,
        name: qualified,
        action: 'reported',
        detail: `calls dblink and could not be replaced: ${(error as Error).message}`,
      });
    }
  }
  return done;
}

type Kept = (kind: NeutralizeKeep['kind'], name: string) => NeutralizeKeep | undefined;

const keptRecord = (
  kind: NeutralizedRecord['kind'],
  name: string,
  what: string,
  entry: NeutralizeKeep,
): NeutralizedRecord => ({
  kind,
  name,
  action: 'kept',
  detail: `${what}; kept by neutralize.keep: ${entry.reason}`,
});

async function servers(
  client: pg.Client,
  kept: Kept,
  productionHosts: readonly string[],
): Promise<NeutralizedRecord[]> {
  const done: NeutralizedRecord[] = [];
  const { rows } = await client.query<{ name: string; fdw: string; options: string[] | null }>(
    `SELECT s.srvname AS name, w.fdwname AS fdw, s.srvoptions AS options
       FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw ORDER BY 1`,
  );
  const neutralized = new Set<string>();
  for (const server of rows) {
    const keys = (server.options ?? []).map((option) => option.slice(0, option.indexOf('=')));
    const what = `foreign server (${server.fdw})`;
    const keepEntry = kept('foreign-server', server.name);
    if (keepEntry) {
      await refuseProductionServer(server.name, server.options ?? [], productionHosts);
      done.push(
        keptRecord(
          'foreign-server',
          server.name,
          `${what} with options ${keys.join(', ') || 'none'}`,
          keepEntry,
        ),
      );
      continue;
    }
    neutralized.add(server.name);
    const libpq = LIBPQ_FDWS.has(server.fdw);
    const isNeutral =
      keys.length === 1 && keys[0] === 'host' && server.options?.[0] === `host=${NEUTRALIZED_HOST}`;
    if (!isNeutral && (keys.length > 0 || libpq)) {
      const changes = keys.filter((key) => !(libpq && key === 'host')).map((key) => `DROP ${ident(key)}`);
      if (libpq) changes.push(`${keys.includes('host') ? 'SET' : 'ADD'} host ${literal(NEUTRALIZED_HOST)}`);
      await client.query(`ALTER SERVER ${ident(server.name)} OPTIONS (${changes.join(', ')})`);
    }
    done.push({
      kind: 'foreign-server',
      name: server.name,
      action: 'options-removed',
      detail: `${what}: connection options removed (${keys.join(', ') || 'none'})${libpq ? `, host set to ${NEUTRALIZED_HOST}` : ''}`,
    });
  }
  const mappings = await client.query<{ server: string; user: string; isPublic: boolean }>(
    `SELECT srvname AS server, usename AS user, umuser = 0 AS "isPublic" FROM pg_user_mappings ORDER BY 1, 2`,
  );
  for (const mapping of mappings.rows) {
    if (!neutralized.has(mapping.server)) continue;
    const role = mapping.isPublic ? 'PUBLIC' : ident(mapping.user);
    await client.query(`DROP USER MAPPING FOR ${role} SERVER ${ident(mapping.server)}`);
    done.push({
      kind: 'user-mapping',
      name: `${mapping.user}@${mapping.server}`,
      action: 'dropped',
      detail: `credentials of ${mapping.user} for foreign server ${mapping.server}`,
    });
  }
  const tables = await client.query<{ name: string; server: string }>(
    `SELECT ${tableKeySql('n.nspname', 'c.relname')} AS name, s.srvname AS server
       FROM pg_foreign_table t JOIN pg_class c ON c.oid = t.ftrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_foreign_server s ON s.oid = t.ftserver ORDER BY 1`,
  );
  for (const table of tables.rows) {
    if (!neutralized.has(table.server)) continue;
    done.push({
      kind: 'foreign-table',
      name: table.name,
      action: 'unreachable',
      detail: `foreign table on server ${table.server}, which no longer has connection options`,
    });
  }
  return done;
}

/** A kept server must not lead to production: its host (or hostaddr) against production.hosts. */
async function refuseProductionServer(
  name: string,
  options: readonly string[],
  productionHosts: readonly string[],
): Promise<void> {
  const option = (key: string) => options.find((entry) => entry.startsWith(`${key}=`))?.slice(key.length + 1);
  const port = Number(option('port') ?? DEFAULT_PG_PORT);
  for (const host of [option('host'), option('hostaddr')].flatMap((value) => value?.split(',') ?? [])) {
    const endpoint = await resolveEndpoint(host);
    for (const production of productionHosts) {
      const [prodHost, prodPort] = splitHostPort(production);
      if (prodPort !== undefined && prodPort !== port) continue;
      if (sameHost(await resolveEndpoint(prodHost), endpoint))
        throw new GuardError(
          `neutralize.keep keeps foreign server ${name}, but it points at ${host}, which is production.hosts entry "${production}"`,
          { hint: 'a kept object must not reach production; remove it from neutralize.keep' },
        );
    }
  }
}

function splitHostPort(entry: string): [string, number | undefined] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return [bracketed[1] as string, bracketed[2] ? Number(bracketed[2]) : undefined];
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  if (withPort) return [withPort[1] as string, Number(withPort[2])];
  return [entry, undefined];
}

async function eventTriggers(client: pg.Client, kept: Kept): Promise<NeutralizedRecord[]> {
  const done: NeutralizedRecord[] = [];
  const { rows } = await client.query<{ name: string; event: string; enabled: string; fn: string }>(
    `SELECT e.evtname AS name, e.evtevent AS event, e.evtenabled AS enabled, e.evtfoid::regproc::text AS fn
       FROM pg_event_trigger e
      WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_event_trigger'::regclass
                                                    AND d.objid = e.oid AND d.deptype = 'e')
      ORDER BY 1`,
  );
  for (const trigger of rows) {
    const what = `event trigger on ${trigger.event} calling ${trigger.fn}`;
    if (trigger.enabled === 'D') {
      done.push({
        kind: 'event-trigger',
        name: trigger.name,
        action: 'disabled',
        detail: `${what}: was disabled already`,
      });
      continue;
    }
    await client.query(`ALTER EVENT TRIGGER ${ident(trigger.name)} DISABLE`);
    const keepEntry = kept('event-trigger', trigger.name);
    const state = EVENT_STATE[trigger.enabled] ?? 'enabled';
    done.push(
      keepEntry
        ? keptRecord(
            'event-trigger',
            trigger.name,
            `${what}; disabled while the tool runs, ${state} again before the swap`,
            keepEntry,
          )
        : { kind: 'event-trigger', name: trigger.name, action: 'disabled', detail: `${what}: was ${state}` },
    );
  }
  return done;
}

/** Enables again the kept event triggers this run disabled (before the swap, after the migrations). */
export async function enableKeptEventTriggers(
  client: pg.Client,
  neutralized: readonly NeutralizedRecord[],
): Promise<void> {
  for (const entry of neutralized) {
    if (entry.kind !== 'event-trigger' || entry.action !== 'kept') continue;
    const mode = /disabled while the tool runs, (enabled(?: replica| always)?) again/.exec(entry.detail)?.[1];
    const clause =
      mode === 'enabled replica' ? 'ENABLE REPLICA' : mode === 'enabled always' ? 'ENABLE ALWAYS' : 'ENABLE';
    await client.query(`ALTER EVENT TRIGGER ${ident(entry.name)} ${clause}`);
  }
}

async function subscriptions(client: pg.Client, kept: Kept): Promise<NeutralizedRecord[]> {
  const done: NeutralizedRecord[] = [];
  const { rows } = await client.query<{ name: string }>(
    `SELECT subname AS name FROM pg_subscription
      WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1`,
  );
  for (const { name } of rows) {
    const keepEntry = kept('subscription', name);
    if (keepEntry) {
      done.push(keptRecord('subscription', name, 'logical replication from another server', keepEntry));
      continue;
    }
    // Without a slot, DROP SUBSCRIPTION does not connect to the publisher.
    await client.query(`ALTER SUBSCRIPTION ${ident(name)} DISABLE`);
    await client.query(`ALTER SUBSCRIPTION ${ident(name)} SET (slot_name = NONE)`);
    await client.query(`DROP SUBSCRIPTION ${ident(name)}`);
    done.push({
      kind: 'subscription',
      name,
      action: 'dropped',
      detail: 'logical replication from another server',
    });
  }
  return done;
}

async function cronJobs(client: pg.Client, kept: Kept): Promise<NeutralizedRecord[]> {
  const exists = await client.query<{ found: boolean }>(
    `SELECT to_regclass('cron.job') IS NOT NULL AS found`,
  );
  if (!exists.rows[0]?.found) return [];
  const done: NeutralizedRecord[] = [];
  const { rows } = await client.query<{ id: string; name: string | null; schedule: string }>(
    'SELECT jobid::text AS id, jobname AS name, schedule FROM cron.job ORDER BY jobid',
  );
  for (const job of rows) {
    const name = job.name ?? `job ${job.id}`;
    const keepEntry = kept('cron-job', name);
    if (keepEntry) {
      done.push(keptRecord('cron-job', name, `pg_cron job (${job.schedule})`, keepEntry));
      continue;
    }
    await client.query('DELETE FROM cron.job WHERE jobid = $1::bigint', [job.id]);
    done.push({ kind: 'cron-job', name, action: 'unscheduled', detail: `pg_cron job (${job.schedule})` });
  }
  return done;
}

async function dblinkFunctions(client: pg.Client, kept: Kept): Promise<NeutralizedRecord[]> {
  const done: NeutralizedRecord[] = [];
  const { rows } = await client.query<{
    schema: string;
    name: string;
    kind: string;
    args: string;
    result: string | null;
    identity: string;
  }>(
    `SELECT n.nspname AS schema, p.proname AS name, p.prokind AS kind,
            pg_get_function_arguments(p.oid) AS args, pg_get_function_result(p.oid) AS result,
            pg_get_function_identity_arguments(p.oid) AS identity
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
      WHERE p.prosrc ~* '\\mdblink' AND l.lanname NOT IN ('c', 'internal') AND p.prokind IN ('f', 'p')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                                   AND d.objid = p.oid AND d.deptype = 'e')
      ORDER BY 1, 2, 6`,
  );
  for (const fn of rows) {
    const qualified = tableKey(fn.schema, fn.name);
    const label = `${qualified}(${fn.identity})`;
    const keepEntry = kept('function', qualified);
    if (keepEntry) {
      done.push(keptRecord('function', label, 'calls dblink', keepEntry));
      continue;
    }
    const message = literal(`${label} was neutralized by staging-refresh: it calls dblink`);
    const body = `$neutralized$ BEGIN RAISE EXCEPTION ${message}; END $neutralized$`;
    const head =
      fn.kind === 'p'
        ? `PROCEDURE ${qualifiedName(fn.schema, fn.name)}(${fn.args})`
        : `FUNCTION ${qualifiedName(fn.schema, fn.name)}(${fn.args}) RETURNS ${fn.result}`;
    try {
      await client.query(`CREATE OR REPLACE ${head} LANGUAGE plpgsql AS ${body}`);
      done.push({
        kind: 'function',
        name: label,
        action: 'body-replaced',
        detail: 'called dblink; its body now raises an error',
      });
    } catch (error) {
      done.push({
        kind: 'function',
        name: label,
        action: 'reported',
        detail: `calls dblink and could not be replaced: ${(error as Error).message}`,
      });
    }
  }
  return done;
}
