// Shapes shared by the lint rules.
import type { ParsedStatement } from '../../../sql/parse-sql.js';

/** A finding before measurements are joined in. */
export interface LintFinding {
  rule: string;
  severity: 'error' | 'warning' | 'info';
  line: number;
  message: string;
  fix: string;
  /** The table the finding is about, to join with measured locks/blocking. */
  relation?: string;
  /** The statement it is about. */
  statement: string;
}

/** What a rule sees: the whole migration, so it can tell "table created here" apart. */
export interface LintContext {
  statements: readonly ParsedStatement[];
  /** Does the tool run this migration inside a transaction? */
  inTransaction: boolean;
  /** Tables created earlier in this same migration (bare and qualified names). */
  createdHere: ReadonlySet<string>;
  /** What the restored database says (absent when linting without one). */
  facts?: LintFacts | undefined;
}

/** Facts about the existing schema that decide whether a statement is costly. */
export interface LintFacts {
  /** `table.column` (as written in the SQL) → its current type, format_type() style ("character varying(50)"). */
  columnTypes: ReadonlyMap<string, string>;
  /** Tables (as written) that have a validated CHECK constraint. */
  validatedChecks: ReadonlySet<string>;
  /** Index (as written) → the table it belongs to (`schema.table`). */
  indexTables: ReadonlyMap<string, string>;
}

/** A lint rule: looks at one statement (with its index) in context. */
export interface LintRule {
  id: string;
  check(
    statement: ParsedStatement,
    index: number,
    context: LintContext,
  ): Omit<LintFinding, 'rule' | 'statement' | 'line'>[];
}
