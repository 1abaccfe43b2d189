// What the new database's schema (pre-data: tables, domains, CHECK constraints, partitions —
// no rows yet) says about each column a rule writes: its type, length, NOT NULL, CHECKs,
// domain, whether it is generated; and which partitions each partitioned table has.
import type pg from 'pg';
import { tableKeySql } from '../sql/table-key.js';

/** One column of one table, as the rule checks need it. */
export interface ColumnFacts {
  table: string;
  column: string;
  /** udt name of the column's base type (a domain's base type; `_text` for text[]). */
  type: string;
  /** The column's type as SQL names it in a cast (the domain when there is one). */
  sqlType: string;
  domain?: string | undefined;
  /** varchar(n)/char(n). */
  maxLength?: number | undefined;
  notNull: boolean;
  /** A generated column (pg_dump writes no data for it; it is recomputed). */
  generated: boolean;
  /** CHECK constraints on this column alone: name and expression (as pg_get_expr prints it). */
  checks: { name: string; expression: string }[];
  /**
   * The partition keys this column is part of: its table's own (a partitioned table) and its
   * partitioned ancestors' (a partition), nearest first; `key` as pg_get_partkeydef prints it.
   */
  partitionKeys?: readonly { table: string; key: string }[];
  /** The column's table is partitioned (it holds no rows; its partitions do). */
  partitioned?: boolean;
}

/**
 * `schema.table.column` → facts, for every column of every user table. (The query's text is ASCII:
 * the server reads it in the database's encoding, and a LATIN1 one refuses an arrow.) A subquery a
 * column for partition keys and CHECKs took 3.5–4.2 s on 4,000 partitions of 29 columns; joined
 * once, 0.92–1.1 s.
 */
export async function loadColumnFacts(client: pg.Client): Promise<Map<string, ColumnFacts>> {
  const result = await client.query<{
    table: string;
    column: string;
    type: string;
    sqlType: string;
    domain: string | null;
    maxLength: number | null;
    notNull: boolean;
    generated: boolean;
    checks: { name: string; expression: string }[];
    partitionKeys: { table: string; key: string }[];
    partitioned: boolean;
  }>(`
    -- A partitioned table's key columns (and those its key expressions use) are recorded in
    -- pg_depend as internal dependencies of the table on itself; partitions match by name. Found
    -- once per partitioned table and once per table's ancestors, not per column.
    WITH key_columns AS (
      SELECT p.oid AS relid, pa.attname, ${tableKeySql('pn.nspname', 'p.relname')} AS table,
             pg_get_partkeydef(p.oid) AS key
        FROM pg_class p
        JOIN pg_namespace pn ON pn.oid = p.relnamespace
        JOIN pg_attribute pa ON pa.attrelid = p.oid AND pa.attnum > 0 AND NOT pa.attisdropped
       WHERE p.relkind = 'p'
         AND EXISTS (SELECT FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = p.oid
                        AND d.refclassid = 'pg_class'::regclass AND d.refobjid = p.oid
                        AND d.deptype = 'i' AND pa.attnum IN (d.objsubid, d.refobjsubid))
    ), partition_keys AS (
      SELECT c.oid AS relid, k.attname,
             json_agg(json_build_object('table', k.table, 'key', k.key) ORDER BY up.depth) AS keys
        FROM pg_class c
        CROSS JOIN LATERAL pg_partition_ancestors(c.oid) WITH ORDINALITY up(relid, depth)
        JOIN key_columns k ON k.relid = up.relid
       WHERE c.relispartition OR c.relkind = 'p'
       GROUP BY c.oid, k.attname
    ), column_checks AS (
      SELECT k.conrelid AS relid, k.conkey[1] AS attnum,
             json_agg(json_build_object('name', k.conname, 'expression', pg_get_expr(k.conbin, k.conrelid))
                      ORDER BY k.conname) AS checks
        FROM pg_constraint k
       WHERE k.contype = 'c' AND cardinality(k.conkey) = 1
       GROUP BY k.conrelid, k.conkey[1]
    )
    SELECT ${tableKeySql('n.nspname', 'c.relname')} AS table, a.attname::text AS column,
           coalesce(bt.typname, t.typname)::text AS type,
           format_type(a.atttypid, a.atttypmod) AS "sqlType",
           CASE WHEN t.typtype = 'd' THEN format_type(t.oid, NULL) END AS domain,
           CASE WHEN coalesce(bt.typname, t.typname) IN ('varchar', 'bpchar')
                 AND coalesce(nullif(a.atttypmod, -1), nullif(t.typtypmod, -1)) IS NOT NULL
                THEN coalesce(nullif(a.atttypmod, -1), t.typtypmod) - 4 END AS "maxLength",
           a.attnotnull OR coalesce(t.typnotnull, false) AS "notNull",
           a.attgenerated <> '' AS generated,
           coalesce(ck.checks, '[]') AS checks,
           coalesce(pk.keys, '[]') AS "partitionKeys",
           c.relkind = 'p' AS partitioned
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
      LEFT JOIN partition_keys pk ON pk.relid = c.oid AND pk.attname = a.attname
      LEFT JOIN column_checks ck ON ck.relid = c.oid AND ck.attnum = a.attnum
     WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`);
  return new Map(
    result.rows.map((row) => [
      `${row.table}.${row.column}`,
      {
        ...row,
        domain: row.domain ?? undefined,
        maxLength: row.maxLength ?? undefined,
      },
    ]),
  );
}

/**
 * Partitioned table → its partitions at every level below it (sub-partitioned ones, which hold no
 * rows but whose columns the rules and the PII gate see, and leaves), all `schema.table`.
 */
export async function loadPartitions(client: pg.Client): Promise<Map<string, string[]>> {
  const result = await client.query<{ parent: string; leaves: string[] }>(`
    SELECT ${tableKeySql('pn.nspname', 'p.relname')} AS parent,
           array_agg(${tableKeySql('ln.nspname', 'l.relname')} ORDER BY l.relname) AS leaves
      FROM pg_class p
      JOIN pg_namespace pn ON pn.oid = p.relnamespace
      CROSS JOIN LATERAL pg_partition_tree(p.oid) tree
      JOIN pg_class l ON l.oid = tree.relid
      JOIN pg_namespace ln ON ln.oid = l.relnamespace
     WHERE p.relkind = 'p' AND tree.relid <> p.oid
     GROUP BY 1`);
  return new Map(result.rows.map((row) => [row.parent, row.leaves]));
}

/**
 * Table → the tables that inherit from it (INHERITS, at every level; not declarative partitions,
 * which loadPartitions lists), all `schema.table`: pg_dump writes a child's rows under the child,
 * so a rule on the parent must reach it as it reaches a partition.
 */
export async function loadInheritance(client: pg.Client): Promise<Map<string, string[]>> {
  const result = await client.query<{ parent: string; children: string[] }>(`
    WITH RECURSIVE below(parent, child) AS (
      SELECT i.inhparent, i.inhrelid
        FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
       WHERE p.relkind = 'r'
      UNION
      SELECT b.parent, i.inhrelid FROM below b JOIN pg_inherits i ON i.inhparent = b.child)
    SELECT ${tableKeySql('pn.nspname', 'p.relname')} AS parent,
           array_agg(${tableKeySql('cn.nspname', 'c.relname')} ORDER BY c.relname) AS children
      FROM below b
      JOIN pg_class p ON p.oid = b.parent
      JOIN pg_namespace pn ON pn.oid = p.relnamespace
      JOIN pg_class c ON c.oid = b.child AND c.relkind = 'r'
      JOIN pg_namespace cn ON cn.oid = c.relnamespace
     GROUP BY 1`);
  return new Map(result.rows.map((row) => [row.parent, row.children]));
}
