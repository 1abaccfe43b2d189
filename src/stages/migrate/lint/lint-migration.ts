// Runs every lint rule over one migration's statements.
import type { ParsedStatement } from '../../../sql/parse-sql.js';
import { type RangeVarNode, rangeVarName } from './ast.js';
import type { LintContext, LintFacts, LintFinding } from './lint-types.js';
import { LINT_RULES } from './rules.js';

export interface LintOptions {
  inTransaction: boolean;
  disable?: readonly string[];
  /** Facts from the restored database (old column types, validated CHECKs), when there is one. */
  facts?: LintFacts | undefined;
}

/** Lints a migration; findings are in statement order. */
export function lintMigration(statements: readonly ParsedStatement[], options: LintOptions): LintFinding[] {
  const findings: LintFinding[] = [];
  const createdHere = new Set<string>();
  const context: LintContext = {
    statements,
    inTransaction: options.inTransaction,
    createdHere,
    facts: options.facts,
  };
  statements.forEach((statement, index) => {
    for (const rule of LINT_RULES) {
      if (options.disable?.includes(rule.id)) continue;
      for (const finding of rule.check(statement, index, context)) {
        findings.push({ rule: rule.id, line: statement.line, statement: statement.sql, ...finding });
      }
    }
    if (statement.kind === 'CreateStmt' || statement.kind === 'CreateTableAsStmt') {
      const relation = ((statement.node as { relation?: RangeVarNode }).relation ??
        (statement.node as { into?: { rel?: RangeVarNode } }).into?.rel) as RangeVarNode | undefined;
      if (relation) {
        createdHere.add(rangeVarName(relation));
        createdHere.add(relation.relname);
      }
    }
  });
  return findings;
}
