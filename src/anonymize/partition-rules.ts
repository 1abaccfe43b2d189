// A rule on a partitioned table is a rule on every partition: pg_dump writes a partitioned
// table's rows under its leaf partitions, so a rule left on the parent alone would mask nothing.
// Keep entries follow the same way. A partition's own rule (or keep) wins over its parent's.
import type { Config } from '../config/schema.js';
import { columnKey, splitColumnKey } from '../sql/table-key.js';
import { qualify } from './pii-gate.js';

type Anonymize = Config['anonymize'];

/** The anonymize section with every partitioned parent's rules and keeps copied to its leaf partitions. */
export function expandPartitionRules(
  anonymize: Anonymize,
  partitions: ReadonlyMap<string, readonly string[]>,
): Anonymize {
  if (partitions.size === 0) return anonymize;
  const tables: Anonymize['tables'] = Object.fromEntries(
    Object.entries(anonymize.tables).map(([key, value]) => [qualify(key), value]),
  );
  for (const [parent, leaves] of partitions) {
    const rules = tables[parent];
    if (rules === undefined) continue;
    for (const leaf of leaves) {
      const own = tables[leaf];
      if (own === undefined) tables[leaf] = rules;
      else if (own !== 'truncate' && rules !== 'truncate') tables[leaf] = { ...rules, ...own };
    }
  }
  const keep = [...anonymize.keep];
  for (const entry of anonymize.keep) {
    const { table, column } = splitColumnKey(entry);
    for (const leaf of partitions.get(qualify(table)) ?? []) keep.push(columnKey(leaf, column));
  }
  return { ...anonymize, tables, keep };
}

/** Partition → the partitioned tables above it. */
export function partitionParents(partitions: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const parents = new Map<string, string[]>();
  for (const [parent, leaves] of partitions)
    for (const leaf of leaves) parents.set(leaf, [...(parents.get(leaf) ?? []), parent]);
  return parents;
}
