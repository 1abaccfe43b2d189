// Production's CREATE DATABASE text options, read from what `pg_restore --create` prints.
import { beforeAll, describe, expect, it } from 'vitest';
import { createOptions, databaseEntryOf, describeOptions } from '../../src/dump/database-options.js';
import { loadParser } from '../../src/sql/parse-sql.js';

beforeAll(() => loadParser());

describe('databaseEntryOf', () => {
  it("takes the text options of pg_dump 17's CREATE DATABASE, past psql's meta-commands", () => {
    const script = [
      '\\restrict abc',
      'SET statement_timeout = 0;',
      "CREATE DATABASE \"Prod \"\"EU\"\"\" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'en_US.UTF-8' ICU_LOCALE = 'de-DE' ICU_RULES = '&a < b';",
      'ALTER DATABASE "Prod ""EU""" OWNER TO app;',
      '\\connect -reuse-previous=on "dbname=\'Prod \\"EU\\"\'"',
      'ALTER DATABASE "Prod ""EU""" SET search_path TO \'app\', \'public\';',
    ].join('\n');
    const { options, settings } = databaseEntryOf(script);
    expect(options).toEqual({
      encoding: 'UTF8',
      locale_provider: 'icu',
      locale: 'en_US.UTF-8',
      icu_locale: 'de-DE',
      icu_rules: '&a < b',
    });
    // TEMPLATE, OWNER and the rest are the run's own; the order is CREATE DATABASE's.
    expect(createOptions(options ?? {})).toEqual([
      ['ENCODING', 'UTF8'],
      ['LOCALE_PROVIDER', 'icu'],
      ['LOCALE', 'en_US.UTF-8'],
      ['ICU_LOCALE', 'de-DE'],
      ['ICU_RULES', '&a < b'],
    ]);
    expect(describeOptions({ lc_collate: 'C', lc_ctype: 'de_DE' })).toBe("LC_COLLATE 'C', LC_CTYPE 'de_DE'");
    expect(settings).toEqual([{ name: 'search_path', value: "'app', 'public'" }]);
  });

  it('older pg_dumps: LC_COLLATE and LC_CTYPE apart; none without a CREATE DATABASE', () => {
    expect(
      databaseEntryOf(
        "CREATE DATABASE app WITH TEMPLATE = template0 ENCODING = 'LATIN1' LC_COLLATE = 'C' LC_CTYPE = 'de_DE';",
      ).options,
    ).toEqual({ encoding: 'LATIN1', lc_collate: 'C', lc_ctype: 'de_DE' });
    expect(databaseEntryOf('SET statement_timeout = 0;\nSELECT 1;')).toEqual({
      options: undefined,
      settings: [],
    });
  });

  it("reads the database's settings and its roles' there, values as SQL (quotes doubled by the driver)", () => {
    const script = [
      "CREATE DATABASE app WITH TEMPLATE = template0 ENCODING = 'UTF8';",
      "ALTER DATABASE app SET statement_timeout TO '30s';",
      'ALTER DATABASE app SET random_page_cost TO 1.1;',
      "ALTER DATABASE app SET \"app.jwt_secret\" TO 'it''s secret';",
      'ALTER ROLE "Report Reader" IN DATABASE app SET work_mem TO \'64MB\';',
      'ALTER DATABASE app RESET work_mem;',
    ].join('\n');
    expect(databaseEntryOf(script).settings).toEqual([
      { name: 'statement_timeout', value: "'30s'", text: '30s' },
      { name: 'random_page_cost', value: '1.1', text: '1.1' },
      { name: 'app.jwt_secret', value: "'it''s secret'", text: "it's secret" },
      { role: 'Report Reader', name: 'work_mem', value: "'64MB'", text: '64MB' },
    ]);
  });

  it("a value whose second line starts with a backslash (E'a<newline>\\\\b') is not taken for a psql meta-command", () => {
    const script = [
      '\\connect app',
      "ALTER ROLE lowpriv IN DATABASE app SET search_path TO E'a",
      "\\\\b';",
      'ALTER DATABASE app SET "TimeZone" TO \'Europe/Berlin\';',
    ].join('\n');
    expect(databaseEntryOf(script).settings).toEqual([
      { role: 'lowpriv', name: 'search_path', value: " E'a\n\\\\b'", text: 'a\n\\b' },
      { name: 'TimeZone', value: "'Europe/Berlin'", text: 'Europe/Berlin' },
    ]);
  });
});
