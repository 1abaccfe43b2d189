// Foreign keys as pg_dump writes them in post-data, read by the PostgreSQL parser, and held
// against the rules by what the rules write.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ColumnFacts } from '../../src/anonymize/column-facts.js';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { foreignKeyProblems } from '../../src/anonymize/rule-fit.js';
import { type ColumnRule, type ColumnRuleInput, parseRule } from '../../src/anonymize/strategies/registry.js';
import { type ForeignKey, foreignKeysIn } from '../../src/dump/unique-keys.js';
import { loadParser, parseStatements } from '../../src/sql/parse-sql.js';

describe('foreign keys in a post-data section', () => {
  beforeAll(loadParser);

  it('reads each validated key with its columns and the referenced table in key form, and leaves NOT VALID ones out', () => {
    const keys = foreignKeysIn(
      parseStatements(`
        ALTER TABLE ONLY public.invites
            ADD CONSTRAINT invites_inviter_fkey FOREIGN KEY (inviter_email) REFERENCES public.users(email) ON DELETE CASCADE;
        ALTER TABLE "sales.eu"."Orders"
            ADD CONSTRAINT "Orders_fk" FOREIGN KEY ("Customer Id", region) REFERENCES "sales.eu".customers(id, "Region");
        ALTER TABLE ONLY public.legacy
            ADD CONSTRAINT legacy_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) NOT VALID;
        ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
        CREATE INDEX users_email ON public.users USING btree (email);`),
    );
    expect(keys).toEqual([
      {
        table: 'public.invites',
        name: 'invites_inviter_fkey',
        columns: ['inviter_email'],
        references: { table: 'public.users', columns: ['email'] },
      },
      {
        table: '"sales.eu".Orders',
        name: 'Orders_fk',
        columns: ['Customer Id', 'region'],
        references: { table: '"sales.eu".customers', columns: ['id', 'Region'] },
      },
    ]);
  });
});

describe('foreign keys against the rules', () => {
  const prf = KeyedPrf.of('fk-unit-secret');
  /** Column facts: `schema.table.column` → its type. */
  const factsOf = (types: Record<string, string>) =>
    new Map(Object.entries(types).map(([key, type]) => [key, { type } as ColumnFacts]));
  const fk = (table: string, columns: string[], references: string, referenced: string[]): ForeignKey => ({
    table,
    name: `${table.split('.')[1]}_fkey`,
    columns,
    references: { table: references, columns: referenced },
  });
  const judge = (
    rules: Record<string, Record<string, ColumnRuleInput> | 'truncate'>,
    keys: ForeignKey[],
    options: {
      types?: Record<string, string>;
      partitions?: Map<string, string[]>;
      withData?: Set<string>;
    } = {},
  ) =>
    foreignKeyProblems({
      rules: new Map(
        Object.entries(rules).map(([table, value]) => [
          table,
          value === 'truncate'
            ? 'truncate'
            : Object.fromEntries(Object.entries(value).map(([column, rule]) => [column, parseRule(rule)])),
        ]),
      ),
      foreignKeys: keys,
      partitions: options.partitions ?? new Map(),
      withData: options.withData,
      facts: factsOf(options.types ?? {}),
      prf,
      domain: 'example.invalid',
    });
  const invites = [fk('public.invites', ['email'], 'public.users', ['email'])];

  it('passes rules that write the same values however they are spelled', () => {
    expect(
      judge({ 'public.users': { email: 'email' }, 'public.invites': { email: 'email' } }, invites),
    ).toEqual([]);
    expect(
      judge(
        {
          'public.users': { email: 'email' },
          'public.invites': { email: { email: { domain: 'example.invalid' } } },
        },
        invites,
      ),
    ).toEqual([]);
    expect(
      judge(
        { 'public.users': { email: 'hash' }, 'public.invites': { email: { hash: { length: 16 } } } },
        invites,
      ),
    ).toEqual([]);
    expect(judge({}, invites)).toEqual([]);
  });

  it('refuses one side masked and the other kept, and rules that write different values', () => {
    expect(judge({ 'public.users': { email: 'email' } }, invites)).toEqual([
      expect.stringMatching(
        /^anonymize\.tables\.public\.invites\.email \(none\): it references public\.users\.email .*masked by email.*rule it the same way: email: email$/,
      ),
    ]);
    expect(judge({ 'public.invites': { email: 'email' } }, invites)).toEqual([
      expect.stringMatching(
        /which keeps its values .*keep it as well \(no rule\), or rule public\.users\.email the same way: email: email$/,
      ),
    ]);
    expect(
      judge({ 'public.users': { email: 'email' }, 'public.invites': { email: 'hash' } }, invites),
    ).toHaveLength(1);
    // the same rule on columns of different integer types writes different values
    const ids = [fk('public.orders', ['user_id'], 'public.users', ['id'])];
    expect(
      judge({ 'public.users': { id: 'hash' }, 'public.orders': { user_id: 'hash' } }, ids, {
        types: { 'public.users.id': 'int4', 'public.orders.user_id': 'int4' },
      }),
    ).toEqual([]);
    expect(
      judge({ 'public.users': { id: 'hash' }, 'public.orders': { user_id: 'hash' } }, ids, {
        types: { 'public.users.id': 'int8', 'public.orders.user_id': 'int2' },
      }),
    ).toHaveLength(1);
  });

  it('refuses a truncated table still referenced, unless the rows that reference it go too or reference nothing', () => {
    expect(judge({ 'public.users': 'truncate' }, invites)).toEqual([
      expect.stringMatching(
        /^anonymize\.tables\.public\.users \(truncate\): public\.invites references it .*keeps its rows/,
      ),
    ]);
    expect(judge({ 'public.users': 'truncate', 'public.invites': 'truncate' }, invites)).toEqual([]);
    expect(judge({ 'public.users': 'truncate', 'public.invites': { email: 'null' } }, invites)).toEqual([]);
    // a referencing table with no rows in the backup breaks nothing
    expect(judge({ 'public.users': 'truncate' }, invites, { withData: new Set(['public.users']) })).toEqual(
      [],
    );
  });

  it('judges a key on a partitioned table by the rules of each partition, and leaves rules that read the row alone', () => {
    const partitions = new Map([['public.invites', ['public.invites_1', 'public.invites_2']]]);
    const alike = { 'public.invites_1': { email: 'email' }, 'public.invites_2': { email: 'email' } } as const;
    expect(judge({ 'public.users': { email: 'email' }, ...alike }, invites, { partitions })).toEqual([]);
    expect(
      judge(
        { 'public.users': { email: 'email' }, ...alike, 'public.invites_2': { email: 'hash' } },
        invites,
        { partitions },
      ),
    ).toEqual([expect.stringMatching(/\(email \/ hash\): it references public\.users\.email/)]);
    expect(
      judge(
        { 'public.users': { email: 'email' }, 'public.invites': { email: { template: 'u{id}@x' } } },
        invites,
      ),
    ).toEqual([]);
  });

  it('judges each pair of a composite key', () => {
    const composite = [fk('public.lines', ['region', 'code'], 'public.codes', ['region', 'code'])];
    expect(
      judge(
        { 'public.codes': { code: 'hash' }, 'public.lines': { code: 'hash', region: 'hash' } },
        composite,
      ),
    ).toEqual([expect.stringMatching(/^anonymize\.tables\.public\.lines\.region \(hash\)/)]);
  });
});

describe('foreign keys against rules the probes cannot tell apart by value', () => {
  const prf = KeyedPrf.of('fk-unit-secret');
  const facts = (entries: Record<string, [string, string]>) =>
    new Map(Object.entries(entries).map(([key, [type, sqlType]]) => [key, { type, sqlType } as ColumnFacts]));
  const key: ForeignKey = {
    table: 'public.a',
    name: 'a_fkey',
    columns: ['k'],
    references: { table: 'public.b', columns: ['k'] },
  };
  const judge = (
    a: ColumnRuleInput | undefined,
    b: ColumnRuleInput | undefined,
    types: Record<string, [string, string]>,
  ) =>
    foreignKeyProblems({
      rules: new Map<string, Record<string, ColumnRule>>([
        ['public.a', a === undefined ? {} : { k: parseRule(a) }],
        ['public.b', b === undefined ? {} : { k: parseRule(b) }],
      ]),
      foreignKeys: [key],
      partitions: new Map(),
      facts: facts(types),
      prf,
      domain: 'example.invalid',
    });

  it('tells rules that refuse every probe apart by how they are written', () => {
    const varchar: Record<string, [string, string]> = {
      'public.a.k': ['varchar', 'character varying(20)'],
      'public.b.k': ['varchar', 'character varying(20)'],
    };
    expect(judge({ shift: '30d' }, { shift: '90d' }, varchar)).toHaveLength(1);
    expect(judge({ shift: '30d' }, { shift: '30d' }, varchar)).toEqual([]);
  });

  it('refuses the same rule on columns whose types write a value differently, and passes both kept', () => {
    const types: Record<string, [string, string]> = {
      'public.a.k': ['int4', 'integer'],
      'public.b.k': ['numeric', 'numeric(10,2)'],
    };
    expect(judge('hash', 'hash', types)).toEqual([
      expect.stringMatching(/types differ \(integer \/ numeric\(10,2\)\)/),
    ]);
    expect(judge(undefined, undefined, types)).toEqual([]);
  });

  it('lets a referencing side that writes NULL reference nothing', () => {
    const text: Record<string, [string, string]> = {
      'public.a.k': ['text', 'text'],
      'public.b.k': ['text', 'text'],
    };
    expect(judge({ fixed: null }, 'email', text)).toEqual([]);
  });

  it('judges a rule that reads the row only against a kept side', () => {
    const text: Record<string, [string, string]> = {
      'public.a.k': ['text', 'text'],
      'public.b.k': ['text', 'text'],
    };
    expect(judge({ template: 'u{id}@x' }, 'email', text)).toEqual([]);
    expect(judge({ template: 'u{id}@x' }, undefined, text)).toHaveLength(1);
  });
});
