// Which tables the PII gate reads values from: text-like columns no rule covers, in every table
// but the partitioned ones (they hold no rows: their partitions do, and each is read on its own).
import { describe, expect, it } from 'vitest';
import { columnsToSample } from '../../src/anonymize/value-sampling.js';
import type { Config } from '../../src/config/schema.js';

const anonymize = (tables: Record<string, unknown>, keep: string[] = []) =>
  ({ unknownPii: 'fail', sampleRows: 100, keep, domain: 'example.invalid', tables }) as Config['anonymize'];

const COLUMNS = [
  { table: 'public.events', column: 'note', type: 'text', generated: false },
  { table: 'public.events_2024', column: 'note', type: 'text', generated: false },
  { table: '"Sales.EU".events_2025', column: 'note', type: 'text', generated: false },
  { table: '"Sales.EU".events_2025', column: 'id', type: 'int8', generated: false },
  { table: 'public.users', column: 'email', type: 'text', generated: false },
  { table: 'public.users', column: 'bio', type: 'text', generated: false },
  { table: 'public.sessions', column: 'token', type: 'text', generated: false },
];

describe('columns the PII gate samples', () => {
  it('skips ruled, kept, truncated and already flagged columns, and columns of non-text types', () => {
    const wanted = columnsToSample(
      anonymize({ users: { email: 'email' }, sessions: 'truncate' }, ['public.events.note']),
      COLUMNS,
      new Set(['public.users.bio']),
    );
    expect([...wanted]).toEqual([
      ['public.events_2024', ['note']],
      ['"Sales.EU".events_2025', ['note']],
    ]);
  });

  it('reads partitions, not their partitioned parent (known from the catalog, not from the archive’s names)', () => {
    const wanted = columnsToSample(
      anonymize({ users: { email: 'email' } }),
      COLUMNS,
      new Set(),
      new Map([['public.events', ['public.events_2024']]]),
    );
    expect([...wanted.keys()]).toEqual([
      'public.events_2024',
      '"Sales.EU".events_2025',
      'public.users',
      'public.sessions',
    ]);
    // Without them (plan reads the archive's columns, not a database's), every table.
    expect([...columnsToSample(anonymize({}), COLUMNS, new Set()).keys()]).toContain('public.events');
  });
});
