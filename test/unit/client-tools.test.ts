// Choosing the PostgreSQL client tools for a restore (client-tools.ts): the staging server's own
// major when it reads the archive, and the settings a preamble sends, read as the server will see them.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientBinDirs, pgBinDir, withPgBinDir } from '../../src/infra/pg/pg-bin.js';
import {
  type ClientCandidate,
  chooseClient,
  settingsOfPreamble,
} from '../../src/stages/inspect/client-tools.js';

const tools = (...majors: number[]): ClientCandidate[] =>
  majors.map((major) => ({ dir: `/usr/lib/postgresql/${major}/bin`, version: `${major}.3`, major }));

describe('chooseClient', () => {
  it("takes the staging server's major over a newer one (pg_restore 17 sends what a 15 server lacks)", () => {
    expect(chooseClient(tools(18, 17, 15), 15, 15)?.candidate.major).toBe(15);
    expect(chooseClient(tools(18, 17, 15), 15, 15)?.reason).toBe("the staging server's major (15)");
    expect(chooseClient(tools(15, 17), 17, 15)?.candidate.major).toBe(17);
  });

  it('takes no client that cannot read the archive, even of the server major', () => {
    // A pg_dump 17 archive into a 15 server: only 17 reads it (and the preamble check refuses it).
    expect(chooseClient(tools(17, 15), 15, 17)?.candidate.major).toBe(17);
    expect(chooseClient(tools(16, 15), 15, 17)).toBeUndefined();
  });

  it('without the server major: the newest older one, else the oldest newer one', () => {
    expect(chooseClient(tools(18, 14, 13), 16, 13)?.candidate.major).toBe(14);
    expect(chooseClient(tools(18, 17), 16, 15)?.candidate.major).toBe(17);
    expect(chooseClient(tools(18, 17), 16, 15)?.reason).toMatch(/oldest newer one/);
  });

  it('an archive of unknown version: any reads it', () => {
    expect(chooseClient(tools(17, 16), 16, undefined)?.candidate.major).toBe(16);
    expect(chooseClient([], 16, undefined)).toBeUndefined();
  });
});

describe('settingsOfPreamble', () => {
  const PG17_PREAMBLE = [
    '--',
    '-- PostgreSQL database dump',
    '--',
    '',
    '\\restrict 2OUxxYJOM3eeXwcp',
    '',
    'SET statement_timeout = 0;',
    'SET lock_timeout = 0;',
    'SET transaction_timeout = 0;',
    "SET client_encoding = 'UTF8';",
    "SELECT pg_catalog.set_config('search_path', '', false);",
    'SET check_function_bodies = false;',
    '',
    "SET default_tablespace = '';",
    '',
    'CREATE TABLE public.t (id integer);',
    'SET later_setting = 1;',
  ].join('\n');

  it("reads pg_restore 17's SET lines and set_config, up to the first other statement", () => {
    expect(settingsOfPreamble(PG17_PREAMBLE)).toEqual([
      'check_function_bodies',
      'client_encoding',
      'default_tablespace',
      'lock_timeout',
      'search_path',
      'statement_timeout',
      'transaction_timeout',
    ]);
  });

  it('takes SET … TO and SET SESSION, any case; leaves out custom settings (with a dot)', () => {
    expect(settingsOfPreamble("set Session Work_Mem TO '1MB';\nSET myapp.tenant = 'x';\nSELECT 1;")).toEqual([
      'work_mem',
    ]);
  });
});

describe('which client tools directory pgTool uses', () => {
  it("PG_BIN wins; inside a run's choice, that choice (PATH included); else the first of PG_BIN_DIRS", async () => {
    const root = await mkdtemp(join(tmpdir(), 'pg-bin-'));
    const [a, b, empty] = ['a', 'b', 'empty'].map((name) => join(root, name)) as [string, string, string];
    for (const dir of [a, b, empty]) await mkdir(dir);
    for (const dir of [a, b]) await writeFile(join(dir, 'pg_restore'), '');
    const dirs = { PG_BIN_DIRS: `${empty}:${b}:${a}:${b}` };
    expect(clientBinDirs(dirs)).toEqual([b, a]);
    expect(clientBinDirs({ ...dirs, PG_BIN: a })).toEqual([a]);
    expect(pgBinDir(dirs)).toBe(b);
    expect(await withPgBinDir(a, async () => pgBinDir(dirs))).toBe(a);
    expect(await withPgBinDir(undefined, async () => pgBinDir(dirs))).toBeUndefined();
    expect(await withPgBinDir(a, async () => pgBinDir({ ...dirs, PG_BIN: b }))).toBe(b);
  });
});
