import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseStatements } from '../../src/sql/parse-sql.js';
import { lintMigration } from '../../src/stages/migrate/lint/lint-migration.js';

beforeAll(() => loadParser());

/** Rule ids that fire on `sql` (lock_timeout set first unless the test is about it). */
function rules(sql: string, options: { inTransaction?: boolean; withTimeout?: boolean } = {}): string[] {
  const text = options.withTimeout === false ? sql : `SET lock_timeout = '2s';\n${sql}`;
  return lintMigration(parseStatements(text), { inTransaction: options.inTransaction ?? true }).map(
    (f) => f.rule,
  );
}

// Each case fires inside a transaction; its near miss is checked outside one.
const CASES: { rule: string; fires: string; nearMiss: string }[] = [
  {
    rule: 'require-concurrent-index',
    fires: 'CREATE INDEX orders_user_idx ON orders (user_id)',
    nearMiss: 'CREATE TABLE audit (id int, at timestamptz); CREATE INDEX audit_at_idx ON audit (at)',
  },
  {
    rule: 'concurrently-in-transaction',
    fires: 'CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id)',
    nearMiss: 'CREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id)',
  },
  {
    rule: 'add-column-volatile-default',
    fires: 'ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp()',
    nearMiss: 'ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT now()',
  },
  {
    rule: 'add-column-not-null-without-default',
    fires: 'ALTER TABLE orders ADD COLUMN state text NOT NULL',
    nearMiss: "ALTER TABLE orders ADD COLUMN state text NOT NULL DEFAULT 'new'",
  },
  {
    rule: 'alter-column-type',
    fires: 'ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2)',
    nearMiss: 'ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0',
  },
  {
    rule: 'set-not-null',
    fires: 'ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL',
    nearMiss:
      'ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_nn; ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL',
  },
  {
    rule: 'constraint-without-not-valid',
    fires: 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)',
    nearMiss:
      'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID',
  },
  {
    rule: 'unique-constraint-without-index',
    fires: 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)',
    nearMiss: 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx',
  },
  {
    rule: 'drop-or-rename',
    fires: 'ALTER TABLE users RENAME COLUMN name TO full_name',
    nearMiss:
      'CREATE TABLE scratch (id int); ALTER TABLE scratch RENAME COLUMN id TO key; DROP TABLE scratch',
  },
  {
    rule: 'table-rewrite-command',
    fires: 'REINDEX INDEX orders_user_idx',
    nearMiss: 'REINDEX INDEX CONCURRENTLY orders_user_idx',
  },
];

describe('lint rules', () => {
  for (const c of CASES) {
    it(`${c.rule} fires`, () => expect(rules(c.fires, { inTransaction: true })).toContain(c.rule));
    it(`${c.rule} keeps quiet on a near miss`, () =>
      expect(rules(c.nearMiss, { inTransaction: false })).not.toContain(c.rule));
  }

  it('missing-lock-timeout fires once per migration, and not when lock_timeout is set first', () => {
    const sql = 'ALTER TABLE orders ADD COLUMN a int; ALTER TABLE orders ADD COLUMN b int';
    expect(rules(sql, { withTimeout: false }).filter((r) => r === 'missing-lock-timeout')).toHaveLength(1);
    expect(rules(sql)).not.toContain('missing-lock-timeout');
    expect(
      rules('CREATE INDEX CONCURRENTLY i ON orders (a)', { withTimeout: false, inTransaction: false }),
    ).toEqual([]);
  });

  it('also catches CONCURRENTLY after an explicit BEGIN, and VACUUM FULL / CLUSTER', () => {
    expect(
      rules('BEGIN; CREATE INDEX CONCURRENTLY i ON orders (a); COMMIT', { inTransaction: false }),
    ).toContain('concurrently-in-transaction');
    expect(rules('VACUUM FULL orders', { inTransaction: false })).toContain('table-rewrite-command');
    expect(rules('CLUSTER orders USING orders_pkey')).toContain('table-rewrite-command');
    expect(rules('VACUUM orders', { inTransaction: false })).toEqual([]);
  });

  it('names the line, the table and the safer rewrite', () => {
    const [finding] = lintMigration(
      parseStatements('-- add it\n\nCREATE INDEX i ON public.orders (user_id);'),
      {
        inTransaction: true,
      },
    ).filter((f) => f.rule === 'require-concurrent-index');
    expect(finding).toMatchObject({
      line: 3,
      severity: 'error',
      relation: 'public.orders',
      fix: expect.stringContaining('CONCURRENTLY'),
      statement: 'CREATE INDEX i ON public.orders (user_id)',
    });
  });

  it('treats serial and identity columns as rewrites', () => {
    expect(rules('ALTER TABLE orders ADD COLUMN n bigserial')).toContain('add-column-volatile-default');
    expect(rules('ALTER TABLE orders ADD COLUMN n int GENERATED ALWAYS AS IDENTITY')).toContain(
      'add-column-volatile-default',
    );
  });

  it('can disable a rule', () => {
    const findings = lintMigration(parseStatements('CREATE INDEX i ON orders (a)'), {
      inTransaction: true,
      disable: ['require-concurrent-index', 'missing-lock-timeout'],
    });
    expect(findings).toEqual([]);
  });
});
