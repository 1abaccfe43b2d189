// lint: the static half of the lock analysis, for the application's CI. Reads a migrations
// directory the way the tool would, parses every migration with the PostgreSQL parser and
// reports the rules' findings. No database needed.
import type { MigrationsConfig } from '../config/schema.js';
import { loadParser, parseStatements, SqlSyntaxError } from '../sql/parse-sql.js';
import { lintMigration } from '../stages/migrate/lint/lint-migration.js';
import type { LintFinding } from '../stages/migrate/lint/lint-types.js';
import type { LintConfig } from '../stages/migrate/tools/migration-tool.js';
import { migrationTool } from '../stages/migrate/tools/registry.js';
import { runsInTransaction } from '../stages/migrate/transaction-control.js';

export interface FileFindings {
  file: string;
  name: string;
  findings: LintFinding[];
}

const RANK = { info: 0, warning: 1, error: 2 } as const;

/** Lints every migration in `dir`. A syntax error is an error finding. */
export async function lintDirectory(
  dir: string,
  config: LintConfig & Pick<MigrationsConfig, 'tool' | 'lint'>,
): Promise<FileFindings[]> {
  await loadParser();
  const results: FileFindings[] = [];
  for (const file of await migrationTool(config.tool).lintSources(dir, config)) {
    try {
      const statements = parseStatements(file.sql);
      const findings = lintMigration(statements, {
        inTransaction: runsInTransaction(file.mode(statements), statements.length),
        disable: config.lint.disable,
      });
      results.push({ file: file.file, name: file.name, findings });
    } catch (error) {
      if (!(error instanceof SqlSyntaxError)) throw error;
      results.push({
        file: file.file,
        name: file.name,
        findings: [
          {
            rule: 'syntax-error',
            severity: 'error',
            line: error.line,
            message: error.message,
            fix: 'fix the SQL',
            statement: '',
          },
        ],
      });
    }
  }
  return results;
}

/** True when a finding is at or above `failOn`. */
export function failsAt(finding: LintFinding, failOn: 'error' | 'warning' | 'never'): boolean {
  return failOn !== 'never' && RANK[finding.severity] >= RANK[failOn];
}

/** Human-readable lines: file:line severity rule — message, then the fix. */
export function formatFindings(results: readonly FileFindings[]): string {
  const lines: string[] = [];
  for (const result of results) {
    for (const finding of result.findings) {
      lines.push(`${result.file}:${finding.line}  ${finding.severity.padEnd(7)} ${finding.rule}`);
      lines.push(`    ${finding.message}`);
      lines.push(`    safer: ${finding.fix}`);
    }
  }
  const count = results.reduce((sum, result) => sum + result.findings.length, 0);
  lines.push(`${count} finding(s) in ${results.length} migration(s)`);
  return `${lines.join('\n')}\n`;
}
