// Two targets whose configs share one work dir, refreshed at the same time (two CronJobs with one
// volume, or two configs on one host): each run unpacks its backup and writes its pg_restore lists
// in its own directory. Sharing them let one run delete the other's unpacked backup, or read the
// other's data list — which restores the rows of a table it masks, unmasked.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { create as createTar } from 'tar';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import {
  allDataText,
  makeDumps,
  quiet,
  sql,
  tempDir,
  uniqueDb,
  writeTestConfig,
} from '../harness/pg-test-env.js';

const PRODUCTION = (label: string) => `
  CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);
  INSERT INTO users SELECT g, '${label}-person' || g || '@real-mail.example' FROM generate_series(1, 20000) g;
  CREATE TABLE notes (id int PRIMARY KEY, body text);
  INSERT INTO notes SELECT g, '${label}-secret note ' || g FROM generate_series(1, 20000) g;`;

describe('two targets sharing a work dir', () => {
  const dirs: Record<'a' | 'b', string> = { a: '', b: '' };
  beforeAll(async () => {
    for (const label of ['a', 'b'] as const) {
      dirs[label] = await tempDir(`shared-work-${label}`);
      await mkdir(join(dirs[label], 'backups'), { recursive: true });
      await makeDumps(dirs[label], PRODUCTION(label), { dir: 'd' });
      // the same file name for both: both unpack a `prod-dir.tar`
      await createTar({ file: join(dirs[label], 'backups', 'prod-dir.tar'), cwd: join(dirs[label], 'dir') }, [
        '.',
      ]);
    }
  });

  it('refreshes both at once, each masked by its own rules, and leaves the work dir clean', async () => {
    const work = join(await tempDir('shared-work'), 'work');
    const lives = { a: uniqueDb('shared_a'), b: uniqueDb('shared_b') };
    const configs = await Promise.all(
      (['a', 'b'] as const).map(async (label) => {
        const { config } = await writeTestConfig(dirs[label], lives[label], {
          source: { local: { path: join(dirs[label], 'backups', 'prod-dir.tar') }, maxAge: '8d' },
          workDir: work,
          // a masks the users' e-mail addresses, b the notes: each run's data list leaves out another table
          anonymize: {
            secret: `shared-${label}`,
            unknownPii: 'warn',
            tables:
              label === 'a' ? { 'public.users': { email: 'email' } } : { 'public.notes': { body: 'null' } },
          },
        });
        return config;
      }),
    );
    const [a, b] = await Promise.all(configs.map((config) => runRefresh(config, quiet)));
    expect(a?.error).toBeUndefined();
    expect(b?.error).toBeUndefined();
    const textA = await allDataText(lives.a);
    expect(textA).not.toContain('a-person');
    expect(textA).toContain('a-secret note 17');
    const textB = await allDataText(lives.b);
    expect(textB).toContain('b-person17@real-mail.example');
    expect(textB).not.toContain('b-secret note');
    expect((await sql(lives.a, 'SELECT count(*)::int AS n FROM users'))[0]?.n).toBe(20000);
    expect(await readdir(work)).not.toContain('runs');
  });
});
