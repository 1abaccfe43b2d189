// The anonymization part of `plan`: the backup's columns against the rules — rules that name
// nothing, columns that look like PII by name or by sampled values — and a starter rules file.
import { parse as parseYaml, stringify } from 'yaml';
import { largeObjectFinding } from '../anonymize/large-objects.js';
import { qualify, ruleProblems, uncoveredPii } from '../anonymize/pii-gate.js';
import { fits, meaningRules, suggestRule } from '../anonymize/rule-suggest.js';
import { type ColumnRuleInput, ruleToInput } from '../anonymize/strategies/registry.js';
import { columnsToSample, sampleArchive } from '../anonymize/value-sampling.js';
import type { Config } from '../config/schema.js';
import { archiveColumns } from '../dump/archive-columns.js';
import type { ColumnInfo } from '../dump/column-info.js';
import { directTableReads } from '../dump/custom-archive.js';
import { largeObjectTotal } from '../dump/large-object-count.js';
import type { PreparedArchive } from '../dump/prepare-archive.js';
import type { TocEntry } from '../dump/toc.js';
import { archiveUniqueKeys, type UniqueKey } from '../dump/unique-keys.js';
import type { AnonymizeRecord } from '../record/run-record.js';
import { columnKey, splitColumnKey, tableKey } from '../sql/table-key.js';

export interface AnonymizationPlan {
  /** Rules or keep entries that do not match the backup (a run stops on them with exit 78). */
  problems: string[];
  /** Uncovered columns that look like PII, each with a suggested rule. */
  findings: AnonymizeRecord['findings'];
  /** Whether values were sampled (archives readable in place) or names only. */
  sampledValues: boolean;
  note?: string;
  /** The backup's columns and unique keys: what a suggested rule must fit. */
  columns?: ColumnInfo[];
  uniqueKeys?: UniqueKey[];
}

/** Checks the rules against the backup's schema and a sample of its values. */
export async function planAnonymization(
  config: Config,
  archive: PreparedArchive | undefined,
  entries: readonly TocEntry[] = [],
): Promise<AnonymizationPlan> {
  if (!archive) {
    return {
      problems: [],
      findings: [],
      sampledValues: false,
      note: 'the backup has to be unpacked before its schema can be read: a run checks it',
    };
  }
  const anonymize = config.anonymize;
  const columns = await archiveColumns(archive);
  const findings = uncoveredPii(anonymize, columns);
  const largeObjects = largeObjectFinding(anonymize, await largeObjectTotal(archive.path, entries));
  if (largeObjects) findings.push(largeObjects);
  const sample = archive.kind === 'pg_restore' && anonymize.sampleRows > 0;
  if (sample) {
    const flagged = new Set(findings.map((finding) => finding.column));
    // Each table's first rows from its data block, as a run reads them (no pg_restore a table).
    const direct = await directTableReads(archive.path, tableKey).catch(() => undefined);
    findings.push(
      ...(await sampleArchive(
        anonymize,
        archive.path,
        columnsToSample(anonymize, columns, flagged),
        config.target.jobs,
        undefined,
        direct?.reads,
      )),
    );
  }
  const uniqueKeys =
    archive.kind === 'pg_restore' ? await archiveUniqueKeys(archive.path).catch(() => []) : undefined;
  return {
    problems: ruleProblems(anonymize, columns),
    findings,
    sampledValues: sample,
    columns,
    ...(uniqueKeys && { uniqueKeys }),
    ...(!sample &&
      archive.kind === 'plain' && {
        note: 'values of a plain SQL dump are sampled by a run, as its data streams by (names only here)',
      }),
  };
}

/** A starter rules file: the configured rules plus one suggestion per finding, to review. */
export function starterRules(config: Config, plan: AnonymizationPlan, backup: string, now: Date): string {
  const tables: Record<string, unknown> = {};
  for (const [key, rules] of Object.entries(config.anonymize.tables))
    tables[qualify(key)] =
      rules === 'truncate'
        ? rules
        : Object.fromEntries(Object.entries(rules).map(([column, rule]) => [column, ruleToInput(rule)]));
  let largeObjects = config.anonymize.largeObjects;
  for (const finding of plan.findings) {
    if (finding.rule === 'large-objects') {
      // no column rule can mask them: the suggestion is to leave them out of staging
      largeObjects ??= 'drop';
      continue;
    }
    const { table, column } = splitColumnKey(finding.column);
    const existing = tables[table];
    if (existing === 'truncate') continue;
    tables[table] = {
      ...(existing as Record<string, unknown> | undefined),
      [column]: fittingSuggestion(config, plan, finding),
    };
  }
  const document = {
    anonymize: {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} interpolation, written literally
      secret: '${ANONYMIZE_SECRET}',
      unknownPii: config.anonymize.unknownPii,
      sampleRows: config.anonymize.sampleRows,
      domain: config.anonymize.domain,
      keep: config.anonymize.keep,
      ...(largeObjects && { largeObjects }),
      tables,
    },
  };
  const header = [
    `# Starter anonymization rules, written by \`staging-refresh plan --write-rules\` on ${now.toISOString()}`,
    `# from ${backup}.`,
    `# ${plan.findings.length} suggestion(s) from column names${plan.sampledValues ? ' and sampled values' : ''}: review each one,`,
    '# pick the strategy that fits the column (README: anonymization), and copy the section into the config.',
    ...plan.problems.map((problem) => `# PROBLEM: ${problem}`),
  ];
  return `${header.join('\n')}\n${stringify(document)}`;
}

/**
 * A rule that fits the column (type, length, NOT NULL, unique key) and what it holds: for a column
 * found by its name, what the name means (`last_name` → a last name, `postal_code` → a postal code
 * of its length); for one found by its values, the values' suggestion; else the first rule of its
 * type that fits. A starter file loads as written.
 */
function fittingSuggestion(
  config: Config,
  plan: AnonymizationPlan,
  finding: AnonymizeRecord['findings'][number],
): ColumnRuleInput {
  const suggested = parseYaml(finding.suggest ?? "'null'") as ColumnRuleInput;
  const info = plan.columns?.find((column) => columnKey(column.table, column.column) === finding.column);
  if (!info) return suggested;
  const unique = (plan.uniqueKeys ?? []).some(
    (key) => key.table === info.table && key.columns.length === 1 && key.columns[0] === info.column,
  );
  const shape = { type: info.type, maxLength: info.maxLength, notNull: info.notNull, unique };
  const domain = config.anonymize.domain;
  if (finding.rule === 'unknown-pii') {
    const [meaning] = meaningRules(info.column, shape, domain);
    if (meaning !== undefined) return meaning;
  }
  try {
    if (fits(suggested, shape, domain)) return suggested;
  } catch {
    // an unparsable suggestion: replaced below
  }
  return suggestRule(info.column, shape, domain) ?? suggested;
}
