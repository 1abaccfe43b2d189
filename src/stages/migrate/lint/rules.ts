// The lint rules: each looks at the parse tree of one statement, in the context of its
// migration, and says what it would do to a busy production table and how to write it safely.
import { LOCK_MODES } from '../../../sql/lock-conflicts.js';
import { type ParsedStatement, type PgNode, requiresNoTransaction } from '../../../sql/parse-sql.js';
import { strongestDocumentedLock } from '../../../sql/statement-locks.js';
import {
  alterCommands,
  calledFunctions,
  constraints,
  type RangeVarNode,
  rangeVarName,
  typeName,
} from './ast.js';
import type { LintContext, LintRule } from './lint-types.js';

/** Functions whose value differs per row: a DEFAULT calling one rewrites the table. */
const VOLATILE_FUNCTIONS = new Set([
  'clock_timestamp',
  'random',
  'gen_random_uuid',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'timeofday',
  'nextval',
  'txid_current',
]);
const SERIAL_TYPES = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);

function existing(rangeVar: RangeVarNode | undefined, context: LintContext): boolean {
  if (!rangeVar) return false;
  return !context.createdHere.has(rangeVarName(rangeVar)) && !context.createdHere.has(rangeVar.relname);
}

/**
 * ALTER TABLE on a table that existed before this migration: its name and its commands of
 * `subtype` (e.g. AT_AddColumn). Undefined for any other statement.
 */
function alterOfExisting(
  statement: ParsedStatement,
  context: LintContext,
  subtype: string,
): { table: string; cmds: PgNode[] } | undefined {
  if (statement.kind !== 'AlterTableStmt') return undefined;
  const relation = (statement.node as { relation?: RangeVarNode }).relation;
  if (!existing(relation, context)) return undefined;
  return {
    table: rangeVarName(relation),
    cmds: alterCommands(statement.node).filter((cmd) => cmd.subtype === subtype),
  };
}

const requireConcurrentIndex: LintRule = {
  id: 'require-concurrent-index',
  check(statement, _index, context) {
    const node = statement.node as { concurrent?: boolean; relation?: RangeVarNode };
    if (statement.kind !== 'IndexStmt' || node.concurrent || !existing(node.relation, context)) return [];
    const table = rangeVarName(node.relation);
    return [
      {
        severity: 'error',
        relation: table,
        message: `CREATE INDEX on ${table} without CONCURRENTLY takes a SHARE lock: every write to ${table} waits for the whole build`,
        fix: 'CREATE INDEX CONCURRENTLY, alone in a migration that does not run in a transaction',
      },
    ];
  },
};

const concurrentlyInTransaction: LintRule = {
  id: 'concurrently-in-transaction',
  check(statement, index, context) {
    if (!requiresNoTransaction(statement)) return [];
    const explicit = openTransactionAt(context, index);
    if (!context.inTransaction && !explicit) return [];
    return [
      {
        severity: 'error',
        message: `${statement.kind.replace(/Stmt$/, '')} ${explicit ? 'after BEGIN' : 'in a migration the tool runs in a transaction'} fails: it cannot run inside a transaction block`,
        fix: 'put it in a migration of its own that the tool runs without a transaction',
      },
    ];
  },
};

const volatileDefault: LintRule = {
  id: 'add-column-volatile-default',
  check(statement, _index, context) {
    const alter = alterOfExisting(statement, context, 'AT_AddColumn');
    if (!alter) return [];
    const { table } = alter;
    return alter.cmds.flatMap((cmd) => {
      const column = cmd.def as
        | { ColumnDef?: { colname?: string; typeName?: unknown; constraints?: unknown } }
        | undefined;
      const def = column?.ColumnDef;
      if (!def) return [];
      const list = constraints(def.constraints);
      const volatileCall = list
        .filter((c) => c.contype === 'CONSTR_DEFAULT')
        .flatMap((c) => calledFunctions(c.raw_expr))
        .find((name) => VOLATILE_FUNCTIONS.has(name));
      const rewriteKind = volatileCall
        ? `DEFAULT ${volatileCall}()`
        : SERIAL_TYPES.has(typeName(def.typeName))
          ? `type ${typeName(def.typeName)}`
          : list.some((c) => c.contype === 'CONSTR_GENERATED' || c.contype === 'CONSTR_IDENTITY')
            ? 'a generated/identity column'
            : undefined;
      if (!rewriteKind) return [];
      return [
        {
          severity: 'error' as const,
          relation: table,
          message: `ADD COLUMN ${def.colname} with ${rewriteKind} rewrites all of ${table} under an ACCESS EXCLUSIVE lock: reads and writes wait`,
          fix: 'add the column without a default (or with a constant one), backfill in batches, then set the default',
        },
      ];
    });
  },
};

const addColumnNotNull: LintRule = {
  id: 'add-column-not-null-without-default',
  check(statement, _index, context) {
    const alter = alterOfExisting(statement, context, 'AT_AddColumn');
    if (!alter) return [];
    return alter.cmds.flatMap((cmd) => {
      const def = (cmd.def as { ColumnDef?: { colname?: string; constraints?: unknown } } | undefined)
        ?.ColumnDef;
      const list = constraints(def?.constraints);
      const notNull = list.some((c) => c.contype === 'CONSTR_NOTNULL' || c.contype === 'CONSTR_PRIMARY');
      const filled = list.some((c) =>
        ['CONSTR_DEFAULT', 'CONSTR_IDENTITY', 'CONSTR_GENERATED'].includes(String(c.contype)),
      );
      if (!notNull || filled) return [];
      return [
        {
          severity: 'error' as const,
          relation: alter.table,
          message: `ADD COLUMN ${def?.colname} NOT NULL without a DEFAULT fails on a table that has rows`,
          fix: 'add it with a constant DEFAULT (no rewrite since PostgreSQL 11), or nullable, backfill, then SET NOT NULL',
        },
      ];
    });
  },
};

const alterColumnType: LintRule = {
  id: 'alter-column-type',
  check(statement, _index, context) {
    const alter = alterOfExisting(statement, context, 'AT_AlterColumnType');
    if (!alter) return [];
    const { table } = alter;
    return alter.cmds.flatMap((cmd) => {
      const typeNode = (cmd.def as { ColumnDef?: { typeName?: unknown } } | undefined)?.ColumnDef?.typeName;
      const target = typeName(typeNode);
      const old = context.facts?.columnTypes.get(`${table}.${String(cmd.name)}`);
      if (old !== undefined && noRewrite(old, target, typmodOf(typeNode))) return [];
      const maybeFree = old === undefined && (target === 'text' || target === 'varchar');
      return {
        severity: maybeFree ? ('warning' as const) : ('error' as const),
        relation: table,
        message: maybeFree
          ? `ALTER COLUMN ${cmd.name} TYPE ${target} takes ACCESS EXCLUSIVE on ${table}; it skips the rewrite only when the old type is binary-coercible (varchar → text, longer varchar)`
          : `ALTER COLUMN ${cmd.name} TYPE ${target}${old !== undefined ? ` (from ${old})` : ''} rewrites ${table} and its indexes under ACCESS EXCLUSIVE: reads and writes wait`,
        fix: 'add a new column, backfill in batches, switch the application, then drop the old column',
      };
    });
  },
};

const setNotNull: LintRule = {
  id: 'set-not-null',
  check(statement, index, context) {
    const alter = alterOfExisting(statement, context, 'AT_SetNotNull');
    if (!alter) return [];
    const { table } = alter;
    const validatedBefore = context.statements
      .slice(0, index)
      .some(
        (earlier) =>
          earlier.kind === 'AlterTableStmt' &&
          rangeVarName((earlier.node as { relation?: RangeVarNode }).relation) === table &&
          alterCommands(earlier.node).some((cmd) => cmd.subtype === 'AT_ValidateConstraint'),
      );
    if (validatedBefore) return [];
    return alter.cmds.map((cmd) => ({
      severity: 'warning' as const,
      relation: table,
      message: `SET NOT NULL on ${table}.${cmd.name} scans the whole table under ACCESS EXCLUSIVE unless a validated CHECK (${cmd.name} IS NOT NULL) exists`,
      fix: `ADD CONSTRAINT … CHECK (${cmd.name} IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT (in a later migration); then SET NOT NULL`,
    }));
  },
};

const constraintNotValid: LintRule = {
  id: 'constraint-without-not-valid',
  check(statement, _index, context) {
    const alter = alterOfExisting(statement, context, 'AT_AddConstraint');
    if (!alter) return [];
    const { table } = alter;
    return alter.cmds
      .flatMap((cmd) => constraints([cmd.def]))
      .filter(
        (c) => (c.contype === 'CONSTR_FOREIGN' || c.contype === 'CONSTR_CHECK') && c.skip_validation !== true,
      )
      .map((c) => {
        const foreign = c.contype === 'CONSTR_FOREIGN';
        const other = foreign ? rangeVarName(c.pktable as RangeVarNode) : undefined;
        return {
          severity: foreign ? ('error' as const) : ('warning' as const),
          relation: table,
          message: foreign
            ? `ADD FOREIGN KEY on ${table} without NOT VALID checks every row while holding SHARE ROW EXCLUSIVE on ${table} and ${other}: writes to both wait`
            : `ADD CHECK on ${table} without NOT VALID scans every row under ACCESS EXCLUSIVE`,
          fix: 'ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT in a later migration (SHARE UPDATE EXCLUSIVE: writes go on)',
        };
      });
  },
};

const uniqueWithoutIndex: LintRule = {
  id: 'unique-constraint-without-index',
  check(statement, _index, context) {
    const alter = alterOfExisting(statement, context, 'AT_AddConstraint');
    if (!alter) return [];
    const { table } = alter;
    return alter.cmds
      .flatMap((cmd) => constraints([cmd.def]))
      .filter((c) => (c.contype === 'CONSTR_UNIQUE' || c.contype === 'CONSTR_PRIMARY') && !c.indexname)
      .map((c) => ({
        severity: 'error' as const,
        relation: table,
        message: `ADD ${c.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE'} on ${table} builds its index under ACCESS EXCLUSIVE: reads and writes wait`,
        fix: 'CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT … USING INDEX',
      }));
  },
};

const dropOrRename: LintRule = {
  id: 'drop-or-rename',
  check(statement, _index, context) {
    const node = statement.node as {
      relation?: RangeVarNode;
      renameType?: string;
      removeType?: string;
      subname?: string;
      objects?: { List?: { items?: { String?: { sval?: string } }[] } }[];
    };
    const warn = (message: string, relation: string) => [
      {
        severity: 'warning' as const,
        relation,
        message,
        fix: 'deploy application code that no longer uses it first; drop or rename in a later release',
      },
    ];
    if (
      statement.kind === 'RenameStmt' &&
      (node.renameType === 'OBJECT_COLUMN' || node.renameType === 'OBJECT_TABLE')
    ) {
      if (!existing(node.relation, context)) return [];
      const what = node.renameType === 'OBJECT_COLUMN' ? `column ${node.subname} of` : 'table';
      return warn(
        `RENAME of ${what} ${rangeVarName(node.relation)} breaks application code still using the old name`,
        rangeVarName(node.relation),
      );
    }
    if (statement.kind === 'DropStmt' && node.removeType === 'OBJECT_TABLE') {
      const names = (node.objects ?? []).map((object) =>
        (object.List?.items ?? []).map((item) => item.String?.sval ?? '').join('.'),
      );
      const dropped = names.filter((name) => !context.createdHere.has(name));
      return dropped.length > 0
        ? warn(
            `DROP TABLE ${dropped.join(', ')} loses its data and breaks code still using it`,
            dropped[0] as string,
          )
        : [];
    }
    if (statement.kind === 'AlterTableStmt' && existing(node.relation, context)) {
      return alterCommands(statement.node)
        .filter((cmd) => cmd.subtype === 'AT_DropColumn')
        .flatMap((cmd) =>
          warn(
            `DROP COLUMN ${cmd.name} of ${rangeVarName(node.relation)} breaks application code still using it`,
            rangeVarName(node.relation),
          ),
        );
    }
    return [];
  },
};

const rewritingCommand: LintRule = {
  id: 'table-rewrite-command',
  check(statement) {
    const node = statement.node as {
      options?: { DefElem?: { defname?: string } }[];
      params?: { DefElem?: { defname?: string } }[];
      relation?: RangeVarNode;
      rels?: unknown;
    };
    const has = (list: typeof node.options, name: string) =>
      (list ?? []).some((item) => item.DefElem?.defname === name);
    let what: string | undefined;
    if (statement.kind === 'VacuumStmt' && has(node.options, 'full')) what = 'VACUUM FULL';
    else if (statement.kind === 'ClusterStmt') what = 'CLUSTER';
    else if (statement.kind === 'ReindexStmt' && !has(node.params, 'concurrently')) what = 'REINDEX';
    if (!what) return [];
    return [
      {
        severity: 'error',
        message: `${what} holds ACCESS EXCLUSIVE${what === 'REINDEX' ? ' on the index and SHARE on its table' : ''} for its whole run`,
        fix: what === 'REINDEX' ? 'REINDEX … CONCURRENTLY' : 'pg_repack, or leave it to autovacuum',
      },
    ];
  },
};

/**
 * Statements that queue for a lock stronger than SHARE UPDATE EXCLUSIVE (their documented
 * lock): those make every later query on the table wait behind them while they wait.
 * VALIDATE CONSTRAINT, SET (fillfactor …), CREATE INDEX CONCURRENTLY do not.
 */
function takesStrongLock(statement: ParsedStatement): boolean {
  // REFRESH … CONCURRENTLY's EXCLUSIVE lets readers (the only users of a view) through, queued or not.
  if (statement.kind === 'RefreshMatViewStmt' && (statement.node as { concurrent?: boolean }).concurrent)
    return false;
  const mode = strongestDocumentedLock(statement);
  return mode !== undefined && LOCK_MODES.indexOf(mode) > LOCK_MODES.indexOf('ShareUpdateExclusiveLock');
}

const missingLockTimeout: LintRule = {
  id: 'missing-lock-timeout',
  check(statement, index, context) {
    if (!takesStrongLock(statement)) return [];
    const relation = (statement.node as { relation?: RangeVarNode }).relation;
    if (relation && !existing(relation, context)) return [];
    const earlier = context.statements.slice(0, index);
    const set = earlier.some(
      (s) => s.kind === 'VariableSetStmt' && (s.node as { name?: string }).name === 'lock_timeout',
    );
    const alreadyReported = earlier.some((s) => takesStrongLock(s));
    if (set || alreadyReported) return [];
    return [
      {
        severity: 'warning',
        ...(relation && { relation: rangeVarName(relation) }),
        message:
          'no lock_timeout before a statement that queues for a strong lock: while it waits behind a long query, every later query on the table waits behind it',
        fix: "SET lock_timeout = '3s' at the top of the migration, and retry the deploy if it times out",
      },
    ];
  },
};

/** The first type modifier (varchar(50) → 50), if any. */
function typmodOf(typeNode: unknown): number | undefined {
  const mods = (typeNode as { typmods?: { A_Const?: { ival?: { ival?: number } } }[] } | undefined)?.typmods;
  const value = mods?.[0]?.A_Const?.ival?.ival;
  return typeof value === 'number' ? value : undefined;
}

/**
 * True when changing a column of type `old` (format_type) to `target` (parser name, `length`)
 * is binary-coercible, so PostgreSQL only changes the catalog: varchar widened or unbounded,
 * varchar → text, text → unbounded varchar.
 */
function noRewrite(old: string, target: string, length: number | undefined): boolean {
  const varchar = /^character varying(?:\((\d+)\))?$/.exec(old);
  if (varchar) {
    const oldLength = varchar[1] === undefined ? undefined : Number(varchar[1]);
    if (target === 'text') return true;
    if (target === 'varchar') return length === undefined || (oldLength !== undefined && length >= oldLength);
    return false;
  }
  if (old === 'text') return target === 'text' || (target === 'varchar' && length === undefined);
  return false;
}

/** True when statement `index` runs in the same transaction as statement `other` (a tool transaction or BEGIN … COMMIT). */
function sameTransaction(context: LintContext, index: number, other: number): boolean {
  const [from, to] = index < other ? [index, other] : [other, index];
  const between = context.statements.slice(from + 1, to + 1);
  const ends = between.some((s) => {
    const kind = (s.node as { kind?: string }).kind;
    return s.kind === 'TransactionStmt' && (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK');
  });
  if (ends) return false;
  return context.inTransaction || openTransactionAt(context, to);
}

const refreshWithoutConcurrently: LintRule = {
  id: 'refresh-matview-without-concurrently',
  check(statement, _index, context) {
    const node = statement.node as { concurrent?: boolean; relation?: RangeVarNode };
    if (statement.kind !== 'RefreshMatViewStmt' || node.concurrent || !existing(node.relation, context))
      return [];
    const view = rangeVarName(node.relation);
    return [
      {
        severity: 'error',
        relation: view,
        message: `REFRESH MATERIALIZED VIEW ${view} without CONCURRENTLY holds ACCESS EXCLUSIVE for the whole refresh: every read of ${view} waits`,
        fix: `REFRESH MATERIALIZED VIEW CONCURRENTLY ${view} (it needs a unique index on the view): readers go on while it refreshes`,
      },
    ];
  },
};

const wholeTableUpdate: LintRule = {
  id: 'whole-table-update',
  check(statement, index, context) {
    if (statement.kind !== 'UpdateStmt' && statement.kind !== 'DeleteStmt') return [];
    const node = statement.node as { relation?: RangeVarNode; whereClause?: unknown };
    if (node.whereClause !== undefined || !existing(node.relation, context)) return [];
    const table = rangeVarName(node.relation);
    const verb = statement.kind === 'UpdateStmt' ? 'UPDATE' : 'DELETE';
    const inTransaction = context.inTransaction || openTransactionAt(context, index);
    return [
      {
        severity: 'error',
        relation: table,
        message: `${verb} of every row of ${table} in one ${inTransaction ? "statement of the migration's transaction" : 'statement'}: each row stays locked until it commits, so an application UPDATE of any of them waits that long`,
        fix: `${verb} in batches (e.g. WHERE id BETWEEN … of a few thousand rows), each committed on its own, outside the migration's transaction`,
      },
    ];
  },
};

const addColumnThenBackfill: LintRule = {
  id: 'add-column-then-backfill',
  check(statement, index, context) {
    if (statement.kind !== 'UpdateStmt') return [];
    const relation = (statement.node as { relation?: RangeVarNode }).relation;
    if (!existing(relation, context)) return [];
    const table = rangeVarName(relation);
    const added = context.statements.findIndex(
      (earlier, at) =>
        at < index &&
        earlier.kind === 'AlterTableStmt' &&
        rangeVarName((earlier.node as { relation?: RangeVarNode }).relation) === table &&
        alterCommands(earlier.node).some((cmd) => cmd.subtype === 'AT_AddColumn'),
    );
    if (added < 0 || !sameTransaction(context, added, index)) return [];
    return [
      {
        severity: 'error',
        relation: table,
        message: `ADD COLUMN on ${table} (line ${context.statements[added]?.line}) takes ACCESS EXCLUSIVE and the backfill UPDATE in the same transaction keeps it until COMMIT: every read and write of ${table} waits for the whole backfill`,
        fix: 'commit the ADD COLUMN on its own (it is instant), then backfill in batches, each in its own transaction',
      },
    ];
  },
};

/** `schema.index` or `index` names of a DROP INDEX. */
function droppedIndexes(statement: ParsedStatement): string[] {
  const node = statement.node as {
    removeType?: string;
    objects?: { List?: { items?: { String?: { sval?: string } }[] } }[];
  };
  if (statement.kind !== 'DropStmt' || node.removeType !== 'OBJECT_INDEX') return [];
  return (node.objects ?? []).map((object) =>
    (object.List?.items ?? []).map((item) => item.String?.sval ?? '').join('.'),
  );
}

const dropIndexWithoutConcurrently: LintRule = {
  id: 'drop-index-without-concurrently',
  check(statement, _index, context) {
    if ((statement.node as { concurrent?: boolean }).concurrent) return [];
    const names = droppedIndexes(statement).filter((name) => !context.createdHere.has(name));
    if (names.length === 0) return [];
    const table = context.facts?.indexTables.get(names[0] as string);
    return [
      {
        severity: 'warning',
        ...(table && { relation: table }),
        message: `DROP INDEX ${names.join(', ')} without CONCURRENTLY takes ACCESS EXCLUSIVE on ${table ?? 'its table'}: it waits behind every running query, and reads and writes wait behind it${context.inTransaction ? ' until the transaction commits' : ''}`,
        fix: 'DROP INDEX CONCURRENTLY, alone in a migration that does not run in a transaction',
      },
    ];
  },
};

const dropAndCreateIndex: LintRule = {
  id: 'drop-and-create-index-in-transaction',
  check(statement, index, context) {
    const node = statement.node as { concurrent?: boolean; relation?: RangeVarNode };
    if (statement.kind !== 'IndexStmt' || node.concurrent || !existing(node.relation, context)) return [];
    const table = rangeVarName(node.relation);
    const dropped = context.statements.some(
      (earlier, at) =>
        at < index &&
        sameTransaction(context, at, index) &&
        droppedIndexes(earlier).some((name) => {
          const owner = context.facts?.indexTables.get(name);
          return owner === undefined || owner === table || owner.endsWith(`.${table}`);
        }),
    );
    if (!dropped) return [];
    return [
      {
        severity: 'error',
        relation: table,
        message: `DROP INDEX then CREATE INDEX on ${table} in one transaction: the DROP's ACCESS EXCLUSIVE on ${table} is held through the whole index build, so every read and write waits for it`,
        fix: 'CREATE INDEX CONCURRENTLY the new index, then DROP INDEX CONCURRENTLY the old one (or REINDEX INDEX CONCURRENTLY), each in a migration without a transaction',
      },
    ];
  },
};

const attachPartitionWithoutCheck: LintRule = {
  id: 'attach-partition-without-check',
  check(statement, index, context) {
    if (statement.kind !== 'AlterTableStmt') return [];
    return alterCommands(statement.node)
      .filter((cmd) => cmd.subtype === 'AT_AttachPartition')
      .flatMap((cmd) => {
        const child = (cmd.def as { PartitionCmd?: { name?: RangeVarNode } }).PartitionCmd?.name;
        if (!child || !existing(child, context)) return [];
        const name = rangeVarName(child);
        if (context.facts?.validatedChecks.has(name)) return [];
        const checkedHere = context.statements
          .slice(0, index)
          .some(
            (earlier) =>
              earlier.kind === 'AlterTableStmt' &&
              rangeVarName((earlier.node as { relation?: RangeVarNode }).relation) === name &&
              alterCommands(earlier.node).some(
                (c) =>
                  c.subtype === 'AT_ValidateConstraint' ||
                  constraints([c.def]).some(
                    (k) => k.contype === 'CONSTR_CHECK' && k.skip_validation !== true,
                  ),
              ),
          );
        if (checkedHere) return [];
        return [
          {
            severity: 'warning' as const,
            relation: name,
            message: `ATTACH PARTITION ${name} scans all of ${name} under ACCESS EXCLUSIVE to check the partition bound, unless a validated CHECK constraint implies it`,
            fix: `ALTER TABLE ${name} ADD CONSTRAINT … CHECK (<the partition bound>) NOT VALID; VALIDATE CONSTRAINT; then ATTACH PARTITION (it skips the scan); drop the CHECK afterwards`,
          },
        ];
      });
  },
};

const truncate: LintRule = {
  id: 'truncate',
  check(statement, _index, context) {
    if (statement.kind !== 'TruncateStmt') return [];
    const tables = ((statement.node as { relations?: { RangeVar?: RangeVarNode }[] }).relations ?? [])
      .map((item) => item.RangeVar)
      .filter((rangeVar): rangeVar is RangeVarNode => rangeVar !== undefined && existing(rangeVar, context))
      .map(rangeVarName);
    if (tables.length === 0) return [];
    return [
      {
        severity: 'warning',
        relation: tables[0] as string,
        message: `TRUNCATE ${tables.join(', ')} deletes every row (data loss) under ACCESS EXCLUSIVE`,
        fix: 'make sure the data is meant to go (and is backed up); delete in batches if the table must stay readable',
      },
    ];
  },
};

/** The body of a DO block with comments and string literals blanked, upper-cased. */
function doBody(statement: ParsedStatement): string {
  const args = (
    statement.node as { args?: { DefElem?: { defname?: string; arg?: { String?: { sval?: string } } } }[] }
  ).args;
  const body = args?.find((arg) => arg.DefElem?.defname === 'as')?.DefElem?.arg?.String?.sval ?? '';
  return body
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
    .toUpperCase();
}

const doCommitInTransaction: LintRule = {
  id: 'do-commit-in-transaction',
  check(statement, index, context) {
    if (statement.kind !== 'DoStmt') return [];
    if (!/\b(COMMIT|ROLLBACK)\b/.test(doBody(statement))) return [];
    if (!context.inTransaction && !openTransactionAt(context, index)) return [];
    return [
      {
        severity: 'error',
        message:
          'a DO block that COMMITs fails inside a transaction block ("invalid transaction termination"), and this migration runs in one',
        fix: 'run the migration without a transaction (the tool’s no-transaction mode), or drop the COMMIT from the DO block',
      },
    ];
  },
};

/** Every rule, in report order. */
export const LINT_RULES: readonly LintRule[] = [
  requireConcurrentIndex,
  concurrentlyInTransaction,
  volatileDefault,
  addColumnNotNull,
  alterColumnType,
  setNotNull,
  constraintNotValid,
  uniqueWithoutIndex,
  dropOrRename,
  rewritingCommand,
  missingLockTimeout,
  refreshWithoutConcurrently,
  wholeTableUpdate,
  addColumnThenBackfill,
  dropIndexWithoutConcurrently,
  dropAndCreateIndex,
  attachPartitionWithoutCheck,
  truncate,
  doCommitInTransaction,
];

/** True when an explicit BEGIN is open before statement `index`. */
function openTransactionAt(context: LintContext, index: number): boolean {
  let open = false;
  for (const statement of context.statements.slice(0, index)) {
    if (statement.kind !== 'TransactionStmt') continue;
    const kind = (statement.node as { kind?: string }).kind;
    if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') open = true;
    if (kind === 'TRANS_STMT_COMMIT' || kind === 'TRANS_STMT_ROLLBACK') open = false;
  }
  return open;
}
