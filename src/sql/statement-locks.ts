// The table-level locks a statement takes, as PostgreSQL's documentation states them ("Explicit
// Locking", and each command's reference page). Used where sampling cannot see a lock (held for
// less than one sampling interval) and by lint to tell strong locks from SHARE UPDATE EXCLUSIVE.
import { type LockMode, strongest } from './lock-conflicts.js';
import type { ParsedStatement } from './parse-sql.js';
import { relationName } from './table-key.js';

/** A lock the statement takes on a relation named as in the SQL (bare or schema-qualified). */
export interface DocumentedLock {
  relation: string;
  mode: LockMode;
  /** 'index': the relation is an index (its table is locked by a separate entry when known). */
  target: 'table' | 'index' | 'unknown';
}

interface RangeVar {
  schemaname?: string;
  relname: string;
}

const nameOf = (rangeVar: RangeVar): string => relationName(rangeVar.schemaname, rangeVar.relname);

/** Lock mode of one ALTER TABLE subcommand (ALTER TABLE reference page, per form). */
function alterCommandMode(cmd: { subtype?: string; def?: unknown }): LockMode {
  switch (cmd.subtype) {
    case 'AT_ValidateConstraint':
    case 'AT_SetRelOptions':
    case 'AT_ResetRelOptions':
    case 'AT_SetStatistics':
    case 'AT_ClusterOn':
    case 'AT_DropCluster':
    case 'AT_AttachPartition': // on the parent; the partition itself: ACCESS EXCLUSIVE (below)
      return 'ShareUpdateExclusiveLock';
    case 'AT_DetachPartition':
      return (cmd.def as { PartitionCmd?: { concurrent?: boolean } } | undefined)?.PartitionCmd?.concurrent
        ? 'ShareUpdateExclusiveLock'
        : 'AccessExclusiveLock';
    case 'AT_EnableTrig':
    case 'AT_DisableTrig':
    case 'AT_EnableTrigAll':
    case 'AT_DisableTrigAll':
    case 'AT_EnableTrigUser':
    case 'AT_DisableTrigUser':
      return 'ShareRowExclusiveLock';
    case 'AT_AddConstraint': {
      const constraint = (cmd.def as { Constraint?: { contype?: string } } | undefined)?.Constraint;
      return constraint?.contype === 'CONSTR_FOREIGN' ? 'ShareRowExclusiveLock' : 'AccessExclusiveLock';
    }
    default:
      return 'AccessExclusiveLock';
  }
}

/** The documented table-level locks of a statement; empty when it takes none worth reporting. */
export function documentedLocks(statement: ParsedStatement): DocumentedLock[] {
  const node = statement.node as {
    relation?: RangeVar;
    relations?: { RangeVar?: RangeVar }[];
    concurrent?: boolean;
    removeType?: string;
    objects?: { List?: { items?: { String?: { sval?: string } }[] } }[];
    kind?: string;
    params?: { DefElem?: { defname?: string } }[];
    options?: { DefElem?: { defname?: string } }[];
    rels?: { VacuumRelation?: { relation?: RangeVar } }[];
    cmds?: { AlterTableCmd?: { subtype?: string; def?: unknown } }[];
    is_vacuumcmd?: boolean;
  };
  const on = (rangeVar: RangeVar | undefined, mode: LockMode, target: DocumentedLock['target'] = 'table') =>
    rangeVar ? [{ relation: nameOf(rangeVar), mode, target }] : [];
  const has = (list: typeof node.params, name: string) =>
    (list ?? []).some((item) => item.DefElem?.defname === name);
  switch (statement.kind) {
    case 'IndexStmt':
      return on(node.relation, node.concurrent ? 'ShareUpdateExclusiveLock' : 'ShareLock');
    case 'ReindexStmt': {
      const concurrent = has(node.params, 'concurrently');
      if (node.kind === 'REINDEX_OBJECT_INDEX')
        return on(node.relation, concurrent ? 'ShareUpdateExclusiveLock' : 'AccessExclusiveLock', 'index');
      if (node.kind === 'REINDEX_OBJECT_TABLE')
        return on(node.relation, concurrent ? 'ShareUpdateExclusiveLock' : 'ShareLock');
      return [];
    }
    case 'DropStmt': {
      const names = (node.objects ?? []).map((object) =>
        (object.List?.items ?? []).map((item) => item.String?.sval ?? '').join('.'),
      );
      if (node.removeType === 'OBJECT_INDEX') {
        const mode: LockMode = node.concurrent ? 'ShareUpdateExclusiveLock' : 'AccessExclusiveLock';
        return names.map((relation) => ({ relation, mode, target: 'index' as const }));
      }
      if (['OBJECT_TABLE', 'OBJECT_MATVIEW', 'OBJECT_VIEW'].includes(node.removeType ?? ''))
        return names.map((relation) => ({
          relation,
          mode: 'AccessExclusiveLock' as const,
          target: 'table' as const,
        }));
      return [];
    }
    case 'RefreshMatViewStmt':
      return on(node.relation, node.concurrent ? 'ExclusiveLock' : 'AccessExclusiveLock');
    case 'TruncateStmt':
      return (node.relations ?? []).flatMap((item) => on(item.RangeVar, 'AccessExclusiveLock'));
    case 'AlterTableStmt': {
      const cmds = (node.cmds ?? []).map((cmd) => cmd.AlterTableCmd ?? {});
      if (cmds.length === 0) return [];
      const mode = cmds.map(alterCommandMode).reduce((a, b) => strongest(a, b));
      const partitions = cmds
        .filter((cmd) => cmd.subtype === 'AT_AttachPartition')
        .flatMap((cmd) =>
          on((cmd.def as { PartitionCmd?: { name?: RangeVar } }).PartitionCmd?.name, 'AccessExclusiveLock'),
        );
      return [...on(node.relation, mode), ...partitions];
    }
    case 'RenameStmt':
      return on(node.relation, 'AccessExclusiveLock', 'unknown');
    case 'CreateTrigStmt':
      return on(node.relation, 'ShareRowExclusiveLock');
    case 'ClusterStmt':
      return on(node.relation, 'AccessExclusiveLock');
    case 'VacuumStmt': {
      const full = has(node.options, 'full');
      return (node.rels ?? []).flatMap((rel) =>
        on(rel.VacuumRelation?.relation, full ? 'AccessExclusiveLock' : 'ShareUpdateExclusiveLock'),
      );
    }
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'InsertStmt':
      return on(node.relation, 'RowExclusiveLock');
    default:
      return [];
  }
}

/** The strongest documented lock of a statement, or undefined when it takes none. */
export function strongestDocumentedLock(statement: ParsedStatement): LockMode | undefined {
  const modes = documentedLocks(statement).map((lock) => lock.mode);
  return modes.length ? modes.reduce((a, b) => strongest(a, b)) : undefined;
}
