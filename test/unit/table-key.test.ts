import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseToc } from '../../src/dump/toc.js';
import {
  canonicalTableKey,
  columnKey,
  parseRelationName,
  regclassText,
  relationName,
  splitColumnKey,
  splitTableKey,
  tableKey,
} from '../../src/sql/table-key.js';

/** Names with what breaks naive splitting: dots, quotes, spaces, case, non-ASCII. */
const identifier = fc.string({
  minLength: 1,
  maxLength: 12,
  unit: fc.constantFrom('a', 'B', '.', '"', ' ', 'é', '_'),
});

describe('table keys', () => {
  it('split back into the schema and table they were made of, whatever the names hold', () => {
    fc.assert(
      fc.property(identifier, identifier, (schema, table) => {
        expect(splitTableKey(tableKey(schema, table))).toEqual({ schema, table });
        expect(parseRelationName(relationName(undefined, table))).toEqual({ table });
      }),
    );
  });

  it('column keys split back into the table key and column, a column with dots or quotes quoted', () => {
    fc.assert(
      fc.property(identifier, identifier, identifier, (schema, table, column) => {
        const key = tableKey(schema, table);
        expect(splitColumnKey(columnKey(key, column))).toEqual({ table: key, column });
      }),
      { numRuns: 2000 },
    );
    expect(columnKey('public.t', 'a.b')).toBe('public.t."a.b"');
    expect(splitColumnKey('public.users.archive.email')).toEqual({
      table: 'public.users.archive',
      column: 'email',
    });
    expect(splitColumnKey('"sales.eu".orders."ship.to"')).toEqual({
      table: '"sales.eu".orders',
      column: 'ship.to',
    });
  });

  it('read config spellings: bare, dotted table, quoted schema and table', () => {
    expect(splitTableKey('users')).toEqual({ schema: 'public', table: 'users' });
    expect(splitTableKey('public.users.archive')).toEqual({ schema: 'public', table: 'users.archive' });
    expect(splitTableKey('"sales.eu".orders')).toEqual({ schema: 'sales.eu', table: 'orders' });
    expect(splitTableKey('"Sales EU"."order ""items"""')).toEqual({
      schema: 'Sales EU',
      table: 'order "items"',
    });
    expect(canonicalTableKey('"public"."Users"')).toBe('public.Users');
    expect(canonicalTableKey('"sales.eu"."orders"')).toBe('"sales.eu".orders');
  });

  it('quote every part for to_regclass, a bare name staying bare', () => {
    expect(regclassText('public.Users')).toBe('"public"."Users"');
    expect(regclassText('"a.b"')).toBe('"a.b"');
    expect(regclassText('"sales.eu".order "x"')).toBe('"sales.eu"."order ""x"""');
  });
});

describe('pg_restore --list with spaces in schema names', () => {
  it('takes the schema whole when the archive has a SCHEMA entry of that name', () => {
    const toc = parseToc(
      [
        '5; 2615 16386 SCHEMA - Sales EU postgres',
        '6; 2615 16387 SCHEMA - Sales postgres',
        '215; 1259 16388 TABLE Sales EU order items postgres',
        '216; 1259 16389 TABLE Sales EU postgres',
        '3350; 0 16388 TABLE DATA Sales EU order items postgres',
      ].join('\n'),
    );
    expect(toc.entries.map((entry) => [entry.type, entry.schema, entry.name])).toEqual([
      ['SCHEMA', '-', 'Sales EU'],
      ['SCHEMA', '-', 'Sales'],
      ['TABLE', 'Sales EU', 'order items'],
      ['TABLE', 'Sales', 'EU'],
      ['TABLE DATA', 'Sales EU', 'order items'],
    ]);
  });
});
