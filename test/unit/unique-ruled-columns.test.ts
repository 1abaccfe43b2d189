import { describe, expect, it } from 'vitest';
import { type UniqueKey, uniqueKeysIn, uniqueRuledColumns } from '../../src/dump/unique-keys.js';
import { loadParser, parseStatements } from '../../src/sql/parse-sql.js';
import { tableKey } from '../../src/sql/table-key.js';

// Which masked columns must keep their outputs apart: a unique key of their own, on this table,
// and a rule on them. A composite key does not make one of its columns unique.

const KEYS: UniqueKey[] = [
  { table: 'public.users', name: 'users_pkey', columns: ['id'], primary: true },
  { table: 'public.users', name: 'users_email_key', columns: ['email'], primary: false },
  { table: 'public.users', name: 'users_phone_country_key', columns: ['phone', 'country'], primary: false },
  { table: '"Sales.EU".users', name: 'other_email_key', columns: ['handle'], primary: false },
];

describe('unique ruled columns', () => {
  it('are the ruled columns with a single-column unique key on the table', () => {
    expect(
      uniqueRuledColumns(KEYS, 'public.users', { email: 'email', phone: 'mask', handle: 'hash' }),
    ).toEqual(['email']);
    expect(uniqueRuledColumns(KEYS, '"Sales.EU".users', { handle: 'hash' })).toEqual(['handle']);
    expect(uniqueRuledColumns(KEYS, 'public.orders', { email: 'email' })).toEqual([]);
  });
});

describe('unique keys read from post-data', () => {
  it('name their table as every other map does, dotted and quoted names included', async () => {
    await loadParser();
    const keys = uniqueKeysIn(
      parseStatements(`
        ALTER TABLE ONLY "Sales.EU"."Order ""Lines""" ADD CONSTRAINT lines_ref_key UNIQUE (ref);
        CREATE UNIQUE INDEX users_email_key ON "Sales.EU".users USING btree (email);
        ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
      `),
    );
    expect(keys.map((key) => key.table)).toEqual([
      tableKey('Sales.EU', 'Order "Lines"'),
      tableKey('Sales.EU', 'users'),
      'public.users',
    ]);
    expect(uniqueRuledColumns(keys, tableKey('Sales.EU', 'users'), { email: 'email' })).toEqual(['email']);
  });
});
