// Rules on partitioned tables reach every partition below them, at every level; the nearest
// table's own rule wins over those above it.
import { describe, expect, it } from 'vitest';
import { expandPartitionRules, partitionParents } from '../../src/anonymize/partition-rules.js';
import type { Config } from '../../src/config/schema.js';

type Anonymize = Config['anonymize'];
// Rules as written (the expansion copies them as they are, parsed or not).
const anonymize = (tables: Record<string, unknown>, keep: string[] = []): Anonymize =>
  ({ unknownPii: 'fail', sampleRows: 100, keep, domain: 'example.invalid', tables }) as Anonymize;

// visits → visits_old, visits_2024 (itself partitioned) → visits_2024_eu, visits_2024_us
const PARTITIONS = new Map([
  [
    'public.visits',
    ['public.visits_2024', 'public.visits_2024_eu', 'public.visits_2024_us', 'public.visits_old'],
  ],
  ['public.visits_2024', ['public.visits_2024_eu', 'public.visits_2024_us']],
]);

describe('partition rules', () => {
  it('copies a root rule to the sub-partitioned table and to every leaf below it', () => {
    const { tables } = expandPartitionRules(anonymize({ visits: { email: 'email' } }), PARTITIONS);
    for (const table of [
      'public.visits_2024',
      'public.visits_2024_eu',
      'public.visits_2024_us',
      'public.visits_old',
    ])
      expect(tables[table]).toEqual({ email: 'email' });
  });

  it('lets a sub-partitioned table’s rule win over the root’s for its leaves, and a leaf’s own over both', () => {
    const { tables } = expandPartitionRules(
      anonymize({
        'public.visits_2024_us': { note: 'null' },
        'public.visits': { email: 'email', note: 'hash' },
        'public.visits_2024': { note: { fixed: 'x' } },
      }),
      PARTITIONS,
    );
    expect(tables['public.visits_old']).toEqual({ email: 'email', note: 'hash' });
    expect(tables['public.visits_2024_eu']).toEqual({ email: 'email', note: { fixed: 'x' } });
    expect(tables['public.visits_2024_us']).toEqual({ email: 'email', note: 'null' });
  });

  it('truncates below a truncated table unless a partition rules its own columns', () => {
    const { tables } = expandPartitionRules(
      anonymize({ 'public.visits': 'truncate', 'public.visits_2024_eu': { email: 'email' } }),
      PARTITIONS,
    );
    expect(tables['public.visits_2024']).toBe('truncate');
    expect(tables['public.visits_2024_us']).toBe('truncate');
    expect(tables['public.visits_2024_eu']).toEqual({ email: 'email' });
  });

  it('keeps the column rules from above a truncated sub-partitioned table for a leaf that rules its own', () => {
    const { tables } = expandPartitionRules(
      anonymize({
        'public.visits': { email: 'email' },
        'public.visits_2024': 'truncate',
        'public.visits_2024_eu': { note: 'null' },
      }),
      PARTITIONS,
    );
    expect(tables['public.visits_2024_us']).toBe('truncate');
    expect(tables['public.visits_2024_eu']).toEqual({ email: 'email', note: 'null' });
  });

  it('keeps a kept column in every partition below the table that keeps it', () => {
    const { keep } = expandPartitionRules(anonymize({}, ['public.visits_2024.region']), PARTITIONS);
    expect(keep.sort()).toEqual([
      'public.visits_2024.region',
      'public.visits_2024_eu.region',
      'public.visits_2024_us.region',
    ]);
  });

  it('gives the tables that inherit from a parent its rules, as partitions get theirs', () => {
    const inheritance = new Map([['public.people', ['public.contractors', 'public.staff']]]);
    const { tables, keep } = expandPartitionRules(
      anonymize({ 'public.people': { email: 'email' }, 'public.staff': { note: 'null' } }, [
        'public.people.id',
      ]),
      new Map(),
      inheritance,
    );
    expect(tables['public.staff']).toEqual({ email: 'email', note: 'null' });
    expect(tables['public.contractors']).toEqual({ email: 'email' });
    expect(keep).toContain('public.contractors.id');
  });

  it('gives a table inheriting from two parents a truncate of either, whatever their order', () => {
    for (const order of [
      ['public.a', 'public.b'],
      ['public.b', 'public.a'],
    ]) {
      const inheritance = new Map(order.map((parent) => [parent, ['public.c']]));
      const { tables } = expandPartitionRules(
        anonymize({ 'public.a': 'truncate', 'public.b': { x: 'hash' } }),
        new Map(),
        inheritance,
      );
      expect(tables['public.c']).toBe('truncate');
    }
  });

  it('lists every partitioned table above a partition', () => {
    expect(partitionParents(PARTITIONS).get('public.visits_2024_eu')).toEqual([
      'public.visits',
      'public.visits_2024',
    ]);
  });
});
