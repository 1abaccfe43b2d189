// The PII coverage gate: every rule must name a real table and column, and every column that
// looks like PII must have a rule or an explicit `keep` — checked against the new database's
// schema (pre-data only: no row has been written yet).
import type { Config } from '../config/schema.js';
import type { ColumnInfo } from '../dump/column-info.js';
import { ConfigError } from '../errors.js';
import type { AnonymizeRecord } from '../record/run-record.js';
import { canonicalTableKey, columnKey, splitColumnKey } from '../sql/table-key.js';

interface PiiPattern {
  what: string;
  test: (column: string, table: string) => boolean;
  suggest: string;
}

const PERSON_TABLE = /user|customer|person|people|employee|contact|member|account|patient|client|profile/;
const PATTERNS: PiiPattern[] = [
  { what: 'an e-mail address', test: (c) => /e_?mail/.test(c), suggest: 'email' },
  {
    what: 'a phone number',
    test: (c) => /phone|mobile|fax|msisdn/.test(c),
    suggest: 'scramble',
  },
  {
    what: 'a name',
    test: (c, t) =>
      /(first|last|full|middle|given|family|sur|display|maiden|contact|owner|ship|customer|person|holder|recipient|billing|shipping|account|card|employee|patient|sender|receiver)_?name$/.test(
        c,
      ) ||
      /^(fore|nick)_?name$/.test(c) ||
      (c === 'name' && PERSON_TABLE.test(t)),
    suggest: '{ fake: person.fullName }',
  },
  {
    what: 'a user name',
    test: (c) => /^(user_?name|login|login_?name|screen_?name|handle)$/.test(c),
    suggest: '{ fake: internet.userName }',
  },
  {
    what: 'a postal code',
    test: (c) => /zip|postal|post_?code/.test(c),
    suggest: 'scramble',
  },
  {
    what: 'an address',
    // word-bounded exclusions: "ship_address" holds "ip_addr" but is a postal address
    test: (c) => /address|street/.test(c) && !/(^|_)(ip|mac|remote|local|client)_?addr/.test(c),
    suggest: '{ fake: location.streetAddress }',
  },
  { what: 'a birth date', test: (c) => /birth|^dob$/.test(c), suggest: '{ shift: 30d }' },
  {
    what: 'a national id',
    test: (c) => /ssn|social_security|national_?id|passport|tax_?id|^bsn$/.test(c),
    suggest: 'hash',
  },
  {
    what: 'a bank account',
    test: (c) => /iban|bank_?account|account_?number|^bic$/.test(c),
    suggest: 'hash',
  },
  {
    what: 'a card number',
    test: (c) => /(^|_)card(_?(no|num|number))?$|^pan$|cc_?number|cvv/.test(c),
    suggest: '{ mask: { keepLast: 4 } }',
  },
  {
    what: 'an IP address',
    test: (c, _t) => /(^|_)ip(_?address|_?addr)?$|(^|_)(remote|client)_?addr(ess)?$/.test(c),
    suggest: 'ip',
  },
  {
    what: 'a secret',
    test: (c) => /password|passwd|token|secret|api_?key|private_?key/.test(c),
    suggest: "'null'",
  },
  {
    what: 'free text (notes and comments hold names, e-mails and phone numbers)',
    test: (c) => /(^|_)(notes?|comments?|remarks?)$/.test(c),
    suggest: "'null'",
  },
  {
    what: 'a photo',
    test: (c) => /photo|picture|avatar|portrait|selfie|signature_?image/.test(c),
    suggest: "'null'",
  },
];

/** Column names as the patterns read them: `ShipAddress`, `"Ship Address"` → `ship_address`. */
export function normalizeColumnName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[\s.-]+/g, '_');
}

const NOT_PII_TYPES = new Set(['bool', 'boolean', 'int2', 'int4', 'int8', 'uuid', 'oid', 'float4', 'float8']);
const DATE_TYPES = new Set(['date', 'timestamp', 'timestamptz']);

/** The pattern a column matches by name, type considered: keys, counts, flags and timestamps are not PII. */
export function piiPattern(column: string, table: string, type: string): PiiPattern | undefined {
  const name = normalizeColumnName(column);
  // address_id, email_verified, email_sent_at, phone_count: a key, a flag, a time or a number about the PII
  if (/(^|_)(id|ids|key|fk|uuid|count|verified|confirmed|opt_?in|sent|at|on)$/.test(name)) return undefined;
  const pattern = PATTERNS.find((p) => p.test(name, table.toLowerCase()));
  if (!pattern) return undefined;
  if (NOT_PII_TYPES.has(type) && !/phone|card|ssn|national|tax|bank|account_?number|iban/.test(name))
    return undefined;
  if (DATE_TYPES.has(type) && pattern.what !== 'a birth date') return undefined;
  return pattern;
}

/** `schema.table` for a config key (`users` means `public.users`). */
export function qualify(table: string): string {
  return canonicalTableKey(table);
}

/** The keep entries, each in the one spelling of its column (`schema.table.column`, see columnKey). */
export function keptColumns(config: Config['anonymize']): Set<string> {
  return new Set(
    config.keep.map((entry) => {
      const { table, column } = splitColumnKey(entry);
      return columnKey(qualify(table), column);
    }),
  );
}

/** Checks rules against the schema (exit 78 naming the rule's path) and finds uncovered PII. */
export function checkCoverage(
  config: Config['anonymize'],
  columns: readonly ColumnInfo[],
): AnonymizeRecord['findings'] {
  const problems = ruleProblems(config, columns);
  if (problems.length > 0) {
    throw new ConfigError('anonymization rules do not match the backup', problems, {
      hint: 'fix the rules; nothing was restored',
    });
  }
  return uncoveredPii(config, columns);
}

/** Rules (and keep entries) that name a table or column the backup does not have. */
export function ruleProblems(config: Config['anonymize'], columns: readonly ColumnInfo[]): string[] {
  const byTable = new Map<string, Map<string, ColumnInfo>>();
  for (const column of columns) {
    const table = byTable.get(column.table) ?? new Map<string, ColumnInfo>();
    table.set(column.column, column);
    byTable.set(column.table, table);
  }
  const problems: string[] = [];
  for (const [key, rules] of Object.entries(config.tables)) {
    const table = byTable.get(qualify(key));
    if (!table) {
      problems.push(`anonymize.tables.${key}: the backup has no table ${qualify(key)}`);
      continue;
    }
    if (rules === 'truncate') continue;
    for (const column of Object.keys(rules)) {
      if (!table.has(column))
        problems.push(`anonymize.tables.${key}.${column}: ${qualify(key)} has no column "${column}"`);
    }
  }
  for (const kept of config.keep) {
    const { table, column } = splitColumnKey(kept);
    if (!byTable.get(qualify(table))?.has(column))
      problems.push(`anonymize.keep: ${kept} is not a column of the backup`);
  }
  if (Object.keys(config.tables).length > 0 && !config.secret)
    problems.push('anonymize.secret: required when anonymize.tables has rules');
  return problems;
}

/** Columns that look like PII by name and have neither a rule nor a keep entry. */
export function uncoveredPii(
  config: Config['anonymize'],
  columns: readonly ColumnInfo[],
): AnonymizeRecord['findings'] {
  const ruled = new Map(Object.entries(config.tables).map(([key, rules]) => [qualify(key), rules]));
  const kept = keptColumns(config);
  const findings: AnonymizeRecord['findings'] = [];
  for (const column of columns) {
    const rules = ruled.get(column.table);
    if (
      column.generated ||
      rules === 'truncate' ||
      (rules && column.column in rules) ||
      kept.has(columnKey(column.table, column.column))
    )
      continue;
    // A stored tsvector beside masked columns keeps their words ('jane':1 'doe':2) unless ruled.
    if (column.type === 'tsvector' && rules && Object.keys(rules).length > 0) {
      findings.push({
        rule: 'derived-pii',
        severity: config.unknownPii === 'fail' ? 'error' : 'warning',
        column: columnKey(column.table, column.column),
        message: `${columnKey(column.table, column.column)} is a stored tsvector beside masked columns (${Object.keys(rules).join(', ')}): it keeps their original words; rule it (e.g. ${column.column}: { fixed: '' }, or 'null') or list it in anonymize.keep`,
        suggest: "{ fixed: '' }",
      });
      continue;
    }
    const pattern = piiPattern(column.column, column.table, column.type);
    if (!pattern) continue;
    findings.push({
      rule: 'unknown-pii',
      severity: config.unknownPii === 'fail' ? 'error' : 'warning',
      column: columnKey(column.table, column.column),
      message: `${columnKey(column.table, column.column)} looks like ${pattern.what} and has no rule: add one (e.g. ${column.column}: ${pattern.suggest}) or list it in anonymize.keep`,
      suggest: pattern.suggest,
    });
  }
  return findings;
}
