// PII where real schemas keep it beside the obvious columns: inside jsonb documents (nested, in
// arrays), in text[] elements, inside free text, and in inet/cidr columns. Unruled, each one
// stops the run before any row is written, named with where it was found and a rule that fits;
// with those rules (json paths, array each, ip), the refresh succeeds and a full scan of the
// new database finds no original value — from a custom archive and from a plain dump.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import {
  allDataText,
  cluster,
  databasesLike,
  makeDumps,
  quiet,
  tempDir,
  uniqueDb,
  writeTestConfig,
} from '../harness/pg-test-env.js';

const PRODUCTION = `
  CREATE TABLE profiles (
    id bigint PRIMARY KEY,
    doc jsonb NOT NULL,
    aliases text[],
    details text,
    last_seen_from inet,
    home_net cidr);
  INSERT INTO profiles
    SELECT g,
           jsonb_build_object('plan', 'gold', 'contact',
             jsonb_build_object('email', 'member' || g || '@real-mail.example',
                                'phones', jsonb_build_array('+31 6 ' || lpad(g::text, 8, '0')))),
           ARRAY['alias' || g || '@real-mail.example', NULL, 'second' || g || '@real-mail.example'],
           'Called back, wrote to member' || g || '@real-mail.example with the details',
           ('203.0.' || (g % 250) || '.' || (1 + g % 200))::inet,
           ('198.51.' || (g % 250) || '.0/24')::cidr
      FROM generate_series(1, 1500) g;
  CREATE TABLE articles (
    id bigint PRIMARY KEY,
    author_email text NOT NULL,
    search tsvector,
    author_words tsvector GENERATED ALWAYS AS (to_tsvector('simple', author_email)) STORED);
  INSERT INTO articles (id, author_email) SELECT g, 'writer' || g || '@real-mail.example' FROM generate_series(1, 500) g;
  UPDATE articles SET search = to_tsvector('simple', author_email || ' wrote this');`;

const RULES = {
  'public.profiles': {
    doc: { json: { '$.contact.email': 'email', '$.contact.phones.*': { mask: { keepLast: 2, char: '0' } } } },
    aliases: { array: { each: 'email' } },
    details: 'null',
    last_seen_from: 'ip',
    home_net: 'ip',
  },
  // search keeps the words it was computed from; author_words is generated: recomputed from the mask.
  'public.articles': { author_email: 'email', search: { fixed: '' } },
};

describe('PII inside jsonb, arrays, free text and addresses', () => {
  let dumps: string;
  beforeAll(async () => {
    cluster();
    dumps = await tempDir('nested-pii');
    await makeDumps(dumps, PRODUCTION, { 'prod.dump': 'c', 'prod.sql': 'p' });
  });

  it('a stored tsvector beside masked columns is named before any row is written', async () => {
    const dir = await tempDir('nested-tsvector');
    const live = uniqueDb('nested_tsv');
    const { config } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', 'prod.dump') }, maxAge: '8d' },
      anonymize: {
        secret: 's',
        unknownPii: 'fail',
        tables: { ...RULES, 'public.articles': { author_email: 'email' } },
      },
    });
    await copyFile(join(dumps, 'prod.dump'), join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(78);
    expect(record.error?.message).toContain(
      'public.articles.search is a stored tsvector beside masked columns (author_email)',
    );
    expect(record.error?.message).not.toContain('author_words');
    expect(await databasesLike(live)).toEqual([]);
  });

  for (const file of ['prod.dump', 'prod.sql']) {
    it(`${file}: unruled, each is found before any row is written, with where and a rule`, async () => {
      const dir = await tempDir('nested-unruled');
      const live = uniqueDb('nested_unruled');
      const { config } = await writeTestConfig(dir, live, {
        source: { local: { path: join(dir, 'backups', file) }, maxAge: '8d' },
        anonymize: { secret: 's', unknownPii: 'fail', sampleRows: 20 },
      });
      await copyFile(join(dumps, file), join(dir, 'backups', file));
      const record = await runRefresh(config, quiet);
      expect(record.exitCode).toBe(78);
      const message = record.error?.message ?? '';
      expect(message).toContain(
        'public.profiles.doc holds e-mail addresses inside JSON (at $.contact.email)',
      );
      expect(message).toContain("{ json: { '$.contact.email': email } }");
      expect(message).toContain('public.profiles.aliases holds e-mail addresses in its array elements');
      expect(message).toContain('{ array: { each: email } }');
      expect(message).toContain('public.profiles.details holds e-mail addresses inside free text');
      expect(message).toContain('public.profiles.last_seen_from holds IP addresses');
      expect(message).toContain('public.profiles.home_net holds IP addresses');
      expect(await databasesLike(live)).toEqual([]);
    });

    it(`${file}: with json paths, array each and ip rules, nothing original is left (full scan)`, async () => {
      const dir = await tempDir('nested-ruled');
      const live = uniqueDb('nested_ruled');
      const { config } = await writeTestConfig(dir, live, {
        source: { local: { path: join(dir, 'backups', file) }, maxAge: '8d' },
        anonymize: { secret: 's', unknownPii: 'fail', sampleRows: 20, tables: RULES },
      });
      await copyFile(join(dumps, file), join(dir, 'backups', file));
      const record = await runRefresh(config, quiet);
      expect({ outcome: record.outcome, error: record.error?.message }).toEqual({
        outcome: 'succeeded',
        error: undefined,
      });
      const data = await allDataText(live);
      expect(data).not.toMatch(/real-mail\.example|\+31 6 |203\.0\.|198\.51\./);
      // The shapes stay: a document with its plan, arrays of three with the NULL, private addresses.
      expect(data).toMatch(/"plan": "gold"/);
      expect(data).toMatch(/\{[^,{}]+@[^,{}]+,NULL,[^,{}]+@[^,{}]+\}/);
      expect(data).toMatch(/\t10\.\d+\.\d+\.\d+\t10\.\d+\.\d+\.0\/24\n/);
      const leakChecks = record.verify.checks.filter((check) =>
        check.name.startsWith('no-leak:public.profiles'),
      );
      expect(leakChecks.length).toBeGreaterThan(0);
      expect(leakChecks.filter((check) => check.status !== 'passed')).toEqual([]);
    });
  }
});
