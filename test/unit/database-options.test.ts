// Production's CREATE DATABASE text options, read from what `pg_restore --create` prints.
import { beforeAll, describe, expect, it } from 'vitest';
import { createOptions, databaseOptionsOf, describeOptions } from '../../src/dump/database-options.js';
import { loadParser } from '../../src/sql/parse-sql.js';

beforeAll(() => loadParser());

describe('databaseOptionsOf', () => {
  it("takes the text options of pg_dump 17's CREATE DATABASE, past psql's meta-commands", () => {
    const script = [
      '\\restrict abc',
      'SET statement_timeout = 0;',
      "CREATE DATABASE \"Prod \"\"EU\"\"\" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'en_US.UTF-8' ICU_LOCALE = 'de-DE' ICU_RULES = '&a < b';",
      'ALTER DATABASE "Prod ""EU""" OWNER TO app;',
      '\\connect -reuse-previous=on "dbname=\'Prod \\"EU\\"\'"',
      'ALTER DATABASE "Prod ""EU""" SET search_path TO \'app\', \'public\';',
    ].join('\n');
    const options = databaseOptionsOf(script);
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
  });

  it('older pg_dumps: LC_COLLATE and LC_CTYPE apart; none without a CREATE DATABASE', () => {
    expect(
      databaseOptionsOf(
        "CREATE DATABASE app WITH TEMPLATE = template0 ENCODING = 'LATIN1' LC_COLLATE = 'C' LC_CTYPE = 'de_DE';",
      ),
    ).toEqual({ encoding: 'LATIN1', lc_collate: 'C', lc_ctype: 'de_DE' });
    expect(databaseOptionsOf('SET statement_timeout = 0;\nSELECT 1;')).toBeUndefined();
  });
});
