// A rule on a partitioned table is a rule on every partition: pg_dump writes a partitioned
// table's rows under its leaf partitions, so a rule left on the parent alone would mask nothing.
// Keep entries follow the same way. A partition's own rule (or keep) wins over its parent's, and
// a sub-partitioned table's over the table above it. Tables that inherit from a parent (INHERITS)
// follow it the same way: pg_dump writes a child's rows under the child.
import type { Config } from '../config/schema.js';
import { columnKey, splitColumnKey } from '../sql/table-key.js';
import { qualify } from './pii-gate.js';

type Anonymize = Config['anonymize'];

/**
 * The anonymize section with every partitioned table's rules and keeps copied to its partitions,
 * and a parent's to the tables that inherit from it (`inheritance`), the same way.
 */
export function expandPartitionRules(
  anonymize: Anonymize,
  tablesBelow: ReadonlyMap<string, readonly string[]>,
  inheritance: ReadonlyMap<string, readonly string[]> = new Map(),
): Anonymize {
  const partitions = inheritance.size === 0 ? tablesBelow : new Map([...tablesBelow, ...inheritance]);
  if (partitions.size === 0) return anonymize;
  const parentsOf = partitionParents(partitions);
  /** How many partitioned tables are above a table. */
  const depthOf = (table: string) => parentsOf.get(table)?.length ?? 0;
  const tables: Anonymize['tables'] = Object.fromEntries(
    Object.entries(anonymize.tables).map(([key, value]) => [qualify(key), value]),
  );
  const written = { ...tables };
  // Each partition's rules: its ancestors', the farthest first, then its own, each over the last.
  // Ancestors at one depth (a table inheriting from two parents) are taken together, by name: a
  // truncate among them wins, as the stricter rule.
  for (const [partition, parents] of parentsOf) {
    const depths = new Map<number, string[]>();
    for (const parent of [...parents].sort())
      depths.set(depthOf(parent), [...(depths.get(depthOf(parent)) ?? []), parent]);
    const levels = [...[...depths].sort(([a], [b]) => a - b).map(([, peers]) => peers), [partition]];
    let rules: Anonymize['tables'][string] | undefined;
    /** The column rules above, through a truncated level (a table below it ruling its own columns). */
    let columns: Exclude<Anonymize['tables'][string], 'truncate'> = {};
    for (const peers of levels) {
      const owns = peers.map((peer) => written[peer]).filter((own) => own !== undefined);
      if (owns.length === 0) continue;
      for (const own of owns) if (own !== 'truncate') columns = { ...columns, ...own };
      rules = owns.includes('truncate') ? 'truncate' : columns;
    }
    if (rules !== undefined) tables[partition] = rules;
  }
  const keep = [...anonymize.keep];
  for (const entry of anonymize.keep) {
    const { table, column } = splitColumnKey(entry);
    for (const leaf of partitions.get(qualify(table)) ?? []) keep.push(columnKey(leaf, column));
  }
  return { ...anonymize, tables, keep };
}

/** Partition → the partitioned tables above it (at every level). */
export function partitionParents(partitions: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const parents = new Map<string, string[]>();
  for (const [parent, leaves] of partitions)
    for (const leaf of leaves) parents.set(leaf, [...(parents.get(leaf) ?? []), parent]);
  return parents;
}
