import { beforeAll, describe, expect, it } from 'vitest';
import {
  hasTransactionControl,
  loadParser,
  parseStatements,
  relationsIn,
  requiresNoTransaction,
  SqlSyntaxError,
  WARM_UP_SQL,
} from '../../src/sql/parse-sql.js';

beforeAll(() => loadParser());

describe('parseStatements', () => {
  it('parses the statements the parser is warmed with (a failure there would only be swallowed)', () => {
    expect(parseStatements(WARM_UP_SQL).map((statement) => statement.kind)).toEqual([
      'VariableSetStmt',
      'SelectStmt',
      'AlterTableStmt',
      'IndexStmt',
      'IndexStmt',
      'AlterTableStmt',
      'CreateTrigStmt',
    ]);
  });

  it('splits with exact text and lines, past comments and multi-byte characters', () => {
    const text =
      "-- größe ü\nSELECT 'ü;'; /* a\n comment */ CREATE TABLE t (x int);\n\nDO $$ BEGIN PERFORM 1; END $$\n";
    const statements = parseStatements(text);
    expect(statements.map((s) => [s.kind, s.line, s.sql])).toEqual([
      ['SelectStmt', 2, "SELECT 'ü;'"],
      ['CreateStmt', 3, 'CREATE TABLE t (x int)'],
      ['DoStmt', 5, 'DO $$ BEGIN PERFORM 1; END $$'],
    ]);
  });

  it('reports a syntax error with its line', () => {
    expect(() => parseStatements('SELECT 1;\n\nSELEC 2;')).toThrow(SqlSyntaxError);
    try {
      parseStatements('SELECT 1;\n\nSELEC 2;');
    } catch (error) {
      expect((error as SqlSyntaxError).line).toBe(3);
    }
  });

  it('finds the relations a statement names, foreign key targets included', () => {
    const [statement] = parseStatements(
      'ALTER TABLE shop.orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)',
    );
    expect(relationsIn(statement?.node)).toEqual(['shop.orders', 'users']);
  });

  it('knows which statements cannot run in a transaction', () => {
    const kinds = parseStatements(
      'CREATE INDEX CONCURRENTLY a ON t (x); CREATE INDEX b ON t (x); DROP INDEX CONCURRENTLY a; REINDEX TABLE CONCURRENTLY t; VACUUM t; ANALYZE t',
    ).map(requiresNoTransaction);
    expect(kinds).toEqual([true, false, true, true, true, false]);
    expect(hasTransactionControl(parseStatements('BEGIN; SELECT 1; COMMIT'))).toBe(true);
  });
});
