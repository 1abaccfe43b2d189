// Rules follow the schema: before any row is written, every rule is checked against its column —
// type, length, NOT NULL, single-column CHECK constraints, domain, unique keys, generated columns —
// by the strategy's own static judgement and by masking sampled originals and letting the new
// database (pre-data: its tables, domains and CHECKs exist) judge the masked values. Each problem
// names table, column, constraint and the rule that would fit.
import type pg from 'pg';
import { stringify } from 'yaml';
import type { ForeignKey, UniqueKey } from '../dump/unique-keys.js';
import { ConfigError } from '../errors.js';
import { ident } from '../infra/pg/connection.js';
import { columnKey } from '../sql/table-key.js';
import type { ColumnFacts } from './column-facts.js';
import type { KeyedPrf } from './prf/keyed-prf.js';
import { candidateRules } from './rule-suggest.js';
import {
  type ColumnRule,
  type ColumnRuleInput,
  columnRuleSchema,
  compileRule,
  parseRule,
  ruleMisfit,
  ruleParts,
  ruleToInput,
  usesRow,
} from './strategies/registry.js';
import { type ColumnShape, TEXT_TYPES } from './strategies/strategy.js';

export interface RuleFitInput {
  /** `schema.table` → column → rule (truncated tables left out). */
  tables: ReadonlyMap<string, Readonly<Record<string, ColumnRule>>>;
  facts: ReadonlyMap<string, ColumnFacts>;
  uniqueKeys: readonly UniqueKey[];
  /** Partition → its partitioned parent(s), whose unique keys hold for it too. */
  parents?: ReadonlyMap<string, readonly string[]>;
  /**
   * Partitions whose rows the archive loads through another table (a dump taken with
   * --load-via-partition-root: `COPY root …`), where PostgreSQL routes each row by its key.
   */
  loadedViaRoot?: ReadonlySet<string>;
  /** Original values sampled from the archive: `schema.table` → column → values. */
  samples: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
  prf: KeyedPrf;
  domain: string;
}

/** The unique key that makes `column` of `table` unique on its own, if any. */
export function uniqueKeyOf(
  keys: readonly UniqueKey[],
  table: string,
  column: string,
  parents: readonly string[] = [],
): UniqueKey | undefined {
  return keys.find(
    (key) =>
      (key.table === table || parents.includes(key.table)) &&
      key.columns.length === 1 &&
      key.columns[0] === column,
  );
}

/** The column as a strategy judges it. */
export function shapeOf(facts: ColumnFacts, unique: boolean): ColumnShape {
  return { type: facts.type, maxLength: facts.maxLength, notNull: facts.notNull, unique };
}

/** Every problem with every rule (empty: all rules fit). */
export async function ruleFitProblems(client: pg.Client, input: RuleFitInput): Promise<string[]> {
  const problems: string[] = [];
  for (const [table, rules] of input.tables) {
    for (const [column, rule] of Object.entries(rules)) {
      const facts = input.facts.get(`${table}.${column}`);
      if (!facts) continue; // a rule naming a missing column is reported by the coverage gate
      if (writesPartitionKey(facts) && !input.loadedViaRoot?.has(table)) continue; // below
      const problem = await columnProblem(client, input, table, column, rule, facts);
      if (problem) problems.push(problem);
    }
  }
  const intoThemselves = [...input.tables].filter(([table]) => !input.loadedViaRoot?.has(table));
  return [...problems, ...partitionKeyProblems(intoThemselves, input.facts)];
}

/** What foreignKeyProblems judges the rules against. */
export interface ForeignKeyFitInput {
  /** Every table's rules after the partition expansion (`truncate`, or column → rule). */
  rules: ReadonlyMap<string, Readonly<Record<string, ColumnRule>> | 'truncate'>;
  foreignKeys: readonly ForeignKey[];
  /** Partitioned table → its partitions at every level (a key on it holds for all of them). */
  partitions: ReadonlyMap<string, readonly string[]>;
  /** Tables with rows in the backup (absent: every table may have rows). */
  withData?: ReadonlySet<string> | undefined;
  facts: ReadonlyMap<string, ColumnFacts>;
  prf: KeyedPrf;
  domain: string;
}

/** Values a masked key column is tried on, by its type, to tell whether two rules agree. */
const PROBES: { types: ReadonlySet<string>; values: readonly string[] }[] = [
  { types: new Set(['int2', 'int4', 'int8', 'numeric', 'oid']), values: ['1', '7', '42', '1000', '31999'] },
  {
    types: new Set(['date', 'timestamp', 'timestamptz']),
    values: ['2020-01-01', '1999-12-31', '2024-02-29'],
  },
  {
    types: new Set(['uuid']),
    values: ['00000000-0000-4000-8000-000000000001', '6f1c2a4e-3b5d-4e8f-9a0b-1c2d3e4f5a6b'],
  },
];
const TEXT_PROBES = ['someone@example.com', 'Ada Lovelace', '12345', 'AB-12', 'x'];

/**
 * Foreign keys the rules would break, found before any row is written (PostgreSQL checks them
 * after the data, when the post-data section adds them): a truncated table still referenced by
 * rows kept elsewhere, and the two sides of a key that would no longer meet — one masked and the
 * other kept, or masked by rules that write different values. Rules are judged by what they
 * write: each side's rule masks the same probe values under the run's secret and its column's
 * type (every rule is deterministic), so `hash` and `{ hash: { length: 16 } }` agree where they
 * write the same and the same rule on an int2 and an int8 column does not. A key on a
 * partitioned table holds for each of its partitions (their rules may differ). A side ruled
 * `null` (or writing NULL) references nothing; rules that read the row (templates) are judged only
 * against a kept side. Not modelled: a unique column re-keys its collisions in its own row order,
 * so a key unique on both sides may lose the few rows whose masked values collided.
 */
export function foreignKeyProblems(input: ForeignKeyFitInput): string[] {
  const { rules, partitions } = input;
  const problems: string[] = [];
  /** The tables holding a key's rows: a partitioned table's bottom-level partitions, else itself. */
  const holders = (table: string) =>
    (partitions.get(table) ?? [table]).filter((holder) => !partitions.has(holder));
  const cache = new Map<string, { id: string; outputs: (string | null | undefined)[] | undefined }>();
  /**
   * What a rule writes for its column type's probes (undefined where it refuses one; no outputs
   * where it does not compile), once per rule and type.
   */
  const probed = (rule: ColumnRule, table: string, column: string) => {
    const facts = input.facts.get(`${table}.${column}`);
    const type = facts?.type ?? 'text';
    const id = `${describeRule(rule)}\u0000${type}\u0000${facts?.sqlType ?? ''}`;
    let known = cache.get(id);
    if (!known) {
      let outputs: (string | null | undefined)[] | undefined;
      try {
        const mask = compileRule(rule, { prf: input.prf, type, domain: input.domain });
        outputs = (PROBES.find((probe) => probe.types.has(type))?.values ?? TEXT_PROBES).map((value) => {
          try {
            return mask(value, () => null);
          } catch {
            return undefined;
          }
        });
      } catch {
        outputs = undefined;
      }
      known = { id, outputs };
      cache.set(id, known);
    }
    return known;
  };
  /**
   * What a rule writes for the probes on a column (the same for rules that mask alike), with the
   * column's type; a rule that refuses or nulls every probe is told by how it is written instead.
   */
  const writes = (rule: ColumnRule | undefined, table: string, column: string): string => {
    if (rule === undefined) return 'kept'; // the values as they are: they met before
    const { id, outputs } = probed(rule, table, column);
    if (!outputs || outputs.every((output) => output === null || output === undefined))
      return `as written: ${id}`;
    const type = input.facts.get(`${table}.${column}`)?.sqlType ?? '';
    return `${type}\u0000${outputs.map((output) => JSON.stringify(output ?? 'refused')).join('\u0000')}`;
  };
  /** A referencing side that writes NULL for every probe references nothing (`null`, `fixed: null`). */
  const writesNull = (rule: ColumnRule | undefined, table: string, column: string): boolean =>
    rule !== undefined &&
    !usesRow(rule) &&
    (probed(rule, table, column).outputs?.every((output) => output === null) ?? false);
  for (const key of input.foreignKeys) {
    // The rows that reference: in tables with data, not truncated, not writing NULL on the key.
    const referencing = holders(key.table).filter((table) => {
      const own = rules.get(table);
      return (
        (input.withData?.has(table) ?? true) &&
        own !== 'truncate' &&
        !key.columns.some((column) => writesNull(own?.[column], table, column))
      );
    });
    if (referencing.length === 0) continue;
    const referenced = holders(key.references.table);
    const truncated = referenced.filter((table) => rules.get(table) === 'truncate');
    if (truncated.length > 0) {
      problems.push(
        `anonymize.tables.${truncated[0]} (truncate): ${key.table} references it (foreign key ${key.name} on ${key.columns.join(', ')}) and keeps its rows — PostgreSQL would refuse the foreign key after the data; truncate ${key.table} too, rule its key column${key.columns.length > 1 ? 's' : ''} null, or mask the columns of ${truncated[0]} instead of truncating it`,
      );
      continue;
    }
    key.columns.forEach((column, index) => {
      const target = key.references.columns[index] as string;
      const mine = referencing.map((table) => ({ table, column, rule: ruleOf(rules, table, column) }));
      const theirs = referenced.map((table) => ({
        table,
        column: target,
        rule: ruleOf(rules, table, target),
      }));
      const sides = [...mine, ...theirs];
      // A rule that reads the row cannot be judged on a value alone: only kept against masked is.
      if (sides.some((side) => side.rule !== undefined && usesRow(side.rule))) {
        if (sides.every((side) => side.rule !== undefined)) return;
      } else if (new Set(sides.map((side) => writes(side.rule, side.table, side.column))).size <= 1) return;
      const spell = (list: typeof sides) =>
        [...new Set(list.map((side) => describeRule(side.rule)))].join(' / ');
      const masked = theirs.find((side) => side.rule !== undefined)?.rule;
      const types = [
        ...new Set(sides.map((side) => input.facts.get(`${side.table}.${side.column}`)?.sqlType)),
      ];
      const sameRule = new Set(sides.map((side) => describeRule(side.rule))).size === 1;
      const fix =
        sameRule && types.length > 1
          ? `the two columns' types differ (${types.join(' / ')}), so the same value is not written the same way: keep both, or give the key one type`
          : masked === undefined
            ? `keep it as well (no rule), or rule ${columnKey(key.references.table, target)} the same way: ${target}: ${spell(mine)}`
            : new Set(theirs.map((side) => describeRule(side.rule))).size > 1
              ? `give ${columnKey(key.references.table, target)} one rule in every partition, and ${column} the same`
              : `rule it the same way: ${column}: ${describeRule(masked)}`;
      problems.push(
        `anonymize.tables.${columnKey(key.table, column)} (${spell(mine)}): it references ${columnKey(key.references.table, target)} (foreign key ${key.name}), ${masked === undefined ? 'which keeps its values' : `masked by ${spell(theirs)}`} — masked differently, the two no longer match and PostgreSQL would refuse the foreign key after the data; ${fix}`,
      );
    });
  }
  return problems;
}

/** A column's rule in a table (none for a truncated table or an unruled column). */
function ruleOf(rules: ForeignKeyFitInput['rules'], table: string, column: string): ColumnRule | undefined {
  const own = rules.get(table);
  return own === undefined || own === 'truncate' ? undefined : own[column];
}

/** The error for rules that do not fit (exit 78): each problem a line. */
export function ruleFitError(problems: readonly string[], rowsWritten = false): ConfigError {
  return new ConfigError(`${problems.length} anonymization rule(s) do not fit their columns`, problems, {
    hint: rowsWritten
      ? 'change the rules; the live staging database was not touched'
      : 'change the rules; no row was restored',
  });
}

/** A partition's column in a partition key above it (a partitioned table holds no rows). */
const writesPartitionKey = (facts: ColumnFacts): boolean =>
  (facts.partitionKeys?.length ?? 0) > 0 && facts.partitioned !== true;

/**
 * The rules on partition-key columns of partitions whose rows load into the partitions
 * themselves: one problem per key and column, on the table that owns the key, naming the
 * partitions. (Loaded through the root, PostgreSQL routes each row by its masked key instead.)
 */
export function partitionKeyProblems(
  tables: Iterable<readonly [string, Readonly<Record<string, ColumnRule>>]>,
  facts: ReadonlyMap<string, ColumnFacts>,
): string[] {
  const keyed = new Map<string, { rule: ColumnRule; table: string; key: string; tables: string[] }>();
  for (const [table, rules] of tables) {
    for (const [column, rule] of Object.entries(rules)) {
      const known = facts.get(`${table}.${column}`);
      const key = known?.partitionKeys?.at(-1);
      if (!known || !key || !writesPartitionKey(known)) continue;
      const owner = columnKey(key.table, column);
      const group = keyed.get(owner) ?? { rule, table: key.table, key: key.key, tables: [] };
      group.tables.push(table);
      keyed.set(owner, group);
    }
  }
  return [...keyed].map(([owner, { rule, table, key, tables }]) => {
    const named = tables.sort().slice(0, 3).join(', ');
    const into = `into each partition itself (${named}${tables.length > 3 ? `, and ${tables.length - 3} more` : ''})`;
    // Named by the key's table: the rule may be written there, on a table above it, or on each
    // partition.
    return `${owner} (${describeRule(rule)}): the rule on this column writes the partition key of ${table} (PARTITION BY ${key}) — pg_dump writes the rows ${into}, and PostgreSQL refuses a row whose masked key belongs in another partition ("violates partition constraint"); remove the rule on this column wherever it is written (on ${table}, a table above it or its partitions) and list ${owner} under anonymize.keep, or take the backup with pg_dump --load-via-partition-root so that each row is routed by its masked key (a partition must then cover every masked value)`;
  });
}

async function columnProblem(
  client: pg.Client,
  input: RuleFitInput,
  table: string,
  column: string,
  rule: ColumnRule,
  facts: ColumnFacts,
): Promise<string | undefined> {
  const where = `anonymize.tables.${table}.${column} (${describeRule(rule)})`;
  if (facts.generated)
    return `${where}: ${table}.${column} is a generated column — pg_dump writes no data for it and PostgreSQL recomputes it from the columns it is derived from; remove the rule and rule those columns`;
  const key = uniqueKeyOf(input.uniqueKeys, table, column, input.parents?.get(table));
  const shape = shapeOf(facts, key !== undefined);
  const originals = input.samples.get(table)?.get(column) ?? [];
  const fix = async () => {
    let better: ColumnRuleInput | undefined;
    for (const candidate of candidateRules(column, shape, input.domain)) {
      if (
        (await valueProblem(client, input, table, column, parseRule(candidate), facts, originals)) ===
        undefined
      ) {
        better = candidate;
        break;
      }
    }
    return better === undefined
      ? 'no strategy fits it: drop the rule and truncate the table, or keep the column'
      : `a rule that fits: ${column}: ${describeRule(better)}`;
  };
  const misfit = ruleMisfit(rule, shape);
  if (misfit) {
    const named =
      misfit.includes('unique index') && key
        ? ` (${key.primary ? 'primary key' : 'unique'} ${key.name})`
        : '';
    return `${where}: ${misfit}${named} — ${await fix()}`;
  }
  const problem = await valueProblem(client, input, table, column, rule, facts, originals);
  return problem === undefined ? undefined : `${where}: ${problem} — ${await fix()}`;
}

/** What the database says about the rule's masked sample values (type, domain, CHECKs, length, NOT NULL). */
async function valueProblem(
  client: pg.Client,
  input: RuleFitInput,
  table: string,
  column: string,
  rule: ColumnRule,
  facts: ColumnFacts,
  originals: readonly string[],
): Promise<string | undefined> {
  if (usesRow(rule)) return undefined; // its output depends on other columns: judged by the load itself
  if (originals.length === 0) return undefined;
  const constraint = (name: string) => `${table}.${column} ${name}`;
  const mask = compileRule(rule, { prf: input.prf, type: facts.type, domain: input.domain });
  const masked: string[] = [];
  for (const original of originals) {
    let out: string | null;
    try {
      out = mask(original, () => null);
    } catch (error) {
      return (error as Error).message;
    }
    if (out === null) {
      if (facts.notNull) return `writes NULL for a value and ${constraint('is NOT NULL')}`;
      continue;
    }
    if (facts.maxLength !== undefined && [...out].length > facts.maxLength)
      return `writes ${[...out].length} characters and ${constraint(`is ${facts.sqlType}`)}`;
    masked.push(out);
  }
  // The database judges type and domain (with the domain's CHECKs and NOT NULL) by a cast…
  try {
    await client.query(`SELECT CAST(x AS ${facts.sqlType}) FROM unnest($1::text[]) x`, [masked]);
  } catch (error) {
    const what = facts.domain ? `domain ${facts.domain}` : `type ${facts.sqlType}`;
    return `a masked value is not accepted by ${what} of ${table}.${column} (${(error as Error).message})`;
  }
  // …and the column's own CHECK constraints on the masked values.
  for (const check of facts.checks) {
    try {
      const failing = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM (SELECT CAST(x AS ${facts.sqlType}) AS ${ident(column)} FROM unnest($1::text[]) x) s
          WHERE NOT coalesce((${check.expression}), true)`,
        [masked],
      );
      const n = Number(failing.rows[0]?.n ?? 0);
      if (n > 0)
        return `${n} of ${masked.length} masked sample values violate CHECK constraint ${check.name} (${check.expression})`;
    } catch (error) {
      return `CHECK constraint ${check.name} could not be evaluated on masked values (${(error as Error).message})`;
    }
  }
  return undefined;
}

/** A rule as one line of YAML: `email`, `{ mask: { keepLast: 2 } }`. */
export function describeRule(rule: ColumnRule | ColumnRuleInput | undefined): string {
  if (rule === undefined) return 'none';
  if (typeof rule === 'string') return rule;
  // A parsed rule as config spells it (shift in days, not milliseconds); one as written, as it is.
  const written = columnRuleSchema.safeParse(rule).success ? rule : writtenRule(rule as ColumnRule);
  if (typeof written === 'string') return written;
  const { name, options } = ruleParts(written as ColumnRule);
  // A rule without options as it is written: `email`, not `{ email: {} }`.
  const empty = typeof options === 'object' && options !== null && Object.keys(options).length === 0;
  if (options === undefined || options === true || empty) return name;
  return stringify({ [name]: options }, { collectionStyle: 'flow' }).trim();
}

/** ruleToInput, or the rule as it is where it is not a parsed rule after all. */
function writtenRule(rule: ColumnRule): ColumnRule | ColumnRuleInput {
  try {
    return ruleToInput(rule);
  } catch {
    return rule;
  }
}

/** Whether masked sample values must be shown to the database to judge the rule (else the static checks suffice). */
export function needsValues(rule: ColumnRule, facts: ColumnFacts | undefined): boolean {
  if (!facts || facts.generated) return false;
  const { name } = ruleParts(rule);
  if (name === 'null') return false;
  return (
    facts.checks.length > 0 ||
    facts.domain !== undefined ||
    facts.maxLength !== undefined ||
    !TEXT_TYPES.has(facts.type) ||
    name === 'shift'
  );
}
