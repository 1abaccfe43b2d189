// `plan` in a terminal: a schema of thousands of partitions is summed up, not printed name by name
// (a 4,000-partition schema printed ~120 kB on one line); --json still lists every table.
import { describe, expect, it } from 'vitest';
import { formatPlan, type Plan } from '../../src/commands/plan.js';

const plan = (tables: string[]): Plan => ({
  target: '127.0.0.1:5432/app',
  backup: { key: 'prod.dump', bytes: 1, age: '1h', format: 'custom' },
  tables,
});

describe('plan as text', () => {
  it('names every table of a small schema', () => {
    const line = formatPlan(plan(['public.users', '"Sales.EU".orders'])).split('\n')[3];
    expect(line).toBe('tables   2: public.users, "Sales.EU".orders');
  });

  it('names the first twenty of a big one and counts the rest', () => {
    const tables = Array.from({ length: 4003 }, (_, index) => `public.events_p${index}`);
    const line = formatPlan(plan(tables)).split('\n')[3] ?? '';
    expect(line).toMatch(/^tables {3}4003: public\.events_p0, public\.events_p1, /);
    expect(line).toContain('public.events_p19 … and 3,983 more (--json lists every one)');
    expect(line).not.toContain('public.events_p20,');
  });
});
