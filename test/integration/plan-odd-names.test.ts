// `plan` reads a backup's columns from its schema and samples their values as a run does. Under a
// schema whose name has a dot, its columns were keyed "Sales.EU.contacts" where a run keys
// "Sales.EU".contacts: no data block matched, and the pg_restore started instead was asked for
// table "EU.contacts" of schema "Sales" — nothing — so e-mail addresses in a column no name gives
// away went unreported (and each table cost a pg_restore).
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/commands/plan.js';
import { cluster, makeDumps, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';

const PRODUCTION = `
  CREATE SCHEMA "Sales.EU";
  CREATE TABLE "Sales.EU".contacts (id int PRIMARY KEY, info text);
  INSERT INTO "Sales.EU".contacts SELECT g, 'reach me at person' || g || '@real-mail.example' FROM generate_series(1, 30) g;
  CREATE TABLE "Sales.EU"."Visit Log" (id int, detail text) PARTITION BY RANGE (id);
  CREATE TABLE "Sales.EU"."Visit Log 1" PARTITION OF "Sales.EU"."Visit Log" FOR VALUES FROM (0) TO (1000);
  INSERT INTO "Sales.EU"."Visit Log" SELECT g, 'visitor' || g || '@real-mail.example' FROM generate_series(1, 30) g;`;

describe('plan under a schema with a dot', () => {
  it('samples each table’s values (partitions included) and reports the PII no column name gives away', async () => {
    cluster();
    const dir = await tempDir('plan-odd-names');
    await makeDumps(dir, PRODUCTION, { 'odd.dump': 'c' });
    const { config } = await writeTestConfig(dir, uniqueDb('plan_odd'), {
      source: { local: { path: join(dir, 'backups', 'odd.dump') }, maxAge: '8d' },
      anonymize: { secret: 'plan-odd-names', tables: {} },
    });
    await copyFile(join(dir, 'odd.dump'), join(dir, 'backups', 'odd.dump'));
    const plan = await buildPlan(config);
    expect(plan.anonymization?.sampledValues).toBe(true);
    expect(
      plan.anonymization?.findings
        .filter((finding) => finding.rule === 'unknown-pii-values')
        .map((finding) => finding.column)
        .sort(),
    ).toEqual(['"Sales.EU".Visit Log 1.detail', '"Sales.EU".contacts.info']);
  });
});
