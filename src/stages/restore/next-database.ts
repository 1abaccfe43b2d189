// Creates `__next` with production's encoding and locale (database-options.ts), so migrations sort,
// compare and build text indexes as they will in production. A staging server that cannot (the
// locale is not installed there, ICU is not built in) gets production's encoding with the C
// locale, else its own defaults — and the run says what differs and what that does to timings.
import type pg from 'pg';
import { createOptions, type DatabaseOptions, describeOptions } from '../../dump/database-options.js';
import { createDatabase } from '../../infra/pg/databases.js';
import type { DatabaseOptionsRecord } from '../../record/run-record.js';

/**
 * A CREATE DATABASE this server cannot honour: a locale it has not got (42809), one that does not
 * fit the encoding (22023), a provider or option it does not know (42P17, 42601: builtin_locale
 * before 17, icu_rules before 16), ICU not built in (0A000). Not a lack of rights (42501).
 */
function cannotHonour(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|42|0A)/.test(code) && code !== '42501';
}

/** Creates `name` as close to production's text options as the server allows; what it did. */
export async function createLikeProduction(
  client: pg.Client,
  name: string,
  owner: string | undefined,
  production: DatabaseOptions | undefined,
): Promise<DatabaseOptionsRecord | undefined> {
  if (!production || Object.keys(production).length === 0) {
    await createDatabase(client, name, owner);
    return undefined;
  }
  const attempts: DatabaseOptions[] = [production];
  if (production.encoding !== undefined) attempts.push({ encoding: production.encoding, locale: 'C' });
  attempts.push({});
  let refusal: string | undefined;
  for (const options of attempts) {
    try {
      await createDatabase(client, name, owner, createOptions(options));
    } catch (error) {
      if (!cannotHonour(error) || options === attempts.at(-1)) throw error;
      refusal ??= (error as Error).message;
      continue;
    }
    const staging = await createdOptions(client, name);
    if (options === production) return { production, staging };
    return {
      production,
      staging,
      difference: `production's database has ${describeOptions(production)}; this staging server refused it (${refusal}), so staging was created with ${describeOptions(staging)}: text sorts and compares differently, and text index builds and sorts are not timed as in production — install that locale on the staging server`,
    };
  }
  throw new Error('unreachable: the last attempt rethrows');
}

/** The text options `name` was created with, read back from pg_database (PostgreSQL 15 and later). */
async function createdOptions(client: pg.Client, name: string): Promise<DatabaseOptions> {
  const { rows } = await client.query<Record<string, string | null>>(
    `SELECT pg_encoding_to_char(encoding) AS encoding, to_jsonb(d) AS row FROM pg_database d WHERE datname = $1`,
    [name],
  );
  const row = rows[0] as unknown as { encoding: string; row: Record<string, string | null> };
  const { datcollate, datctype, datlocprovider } = row.row;
  // 15–16 name the ICU locale daticulocale, 17 datlocale (for ICU and the builtin provider).
  const icu = row.row.datlocale ?? row.row.daticulocale;
  const provider = { c: 'libc', i: 'icu', b: 'builtin' }[datlocprovider ?? 'c'] ?? datlocprovider ?? 'libc';
  return {
    encoding: row.encoding,
    locale_provider: provider,
    ...(datcollate === datctype
      ? { locale: datcollate ?? '' }
      : { lc_collate: datcollate ?? '', lc_ctype: datctype ?? '' }),
    ...(icu && provider === 'icu' && { icu_locale: icu }),
    ...(icu && provider === 'builtin' && { builtin_locale: icu }),
  };
}
