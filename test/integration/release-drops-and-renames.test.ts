// A release that drops one table (whose column is masked) and renames another is a normal
// release for every tool: the refresh succeeds, "every archived table is present" was checked
// right after the restore, the checks after the migrations look at what the migrations left,
// and the history is what the tool writes — so the tool's own CLI, run against the refreshed
// staging database, finds nothing pending.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { flywayChecksum } from '../../src/stages/migrate/adapters/flyway-adapter.js';
import { prismaChecksum } from '../../src/stages/migrate/adapters/prisma-adapter.js';
import { cluster, makeDump, quiet, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { prismaDiagnose } from '../harness/prisma-engine.js';
import { runCli } from '../harness/run-cli.js';

const INIT = `CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, total numeric(10,2));
CREATE TABLE legacy_contacts (id bigint PRIMARY KEY, email text NOT NULL);
`;
const RELEASE = `DROP TABLE legacy_contacts;
ALTER TABLE orders RENAME TO purchases;
`;
const DATA = `
  INSERT INTO users SELECT g, 'person' || g || '@real-mail.example' FROM generate_series(1, 300) g;
  INSERT INTO orders SELECT g, 1 + g % 300, g FROM generate_series(1, 900) g;
  INSERT INTO legacy_contacts SELECT g, 'contact' || g || '@real-mail.example' FROM generate_series(1, 200) g;`;

const ANONYMIZE = {
  secret: 'release-test',
  unknownPii: 'warn',
  tables: { 'public.users': { email: 'email' }, 'public.legacy_contacts': { email: 'email' } },
};

interface Project {
  /** Files of the migrations directory. */
  files: Record<string, string>;
  /** The history the tool wrote in production when it applied the first migration. */
  history: string;
  /** Extra migrations config. */
  migrations?: Record<string, unknown>;
}

const NODE_PG_RELEASE = `export const up = (pgm) => {
  pgm.dropTable('legacy_contacts');
  pgm.renameTable('orders', 'purchases');
};
`;

const ALEMBIC_ENV = `import os
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
`;

function alembicVersion(revision: string, down: string | null, sqlText: string): string {
  return `revision = ${JSON.stringify(revision)}
down_revision = ${down === null ? 'None' : JSON.stringify(down)}
branch_labels = None
depends_on = None

from alembic import op


def upgrade():
${sqlText
  .trim()
  .split('\n')
  .map((line) => `    op.execute(${JSON.stringify(line)})`)
  .join('\n')}


def downgrade():
    pass
`;
}

const PROJECTS: Record<string, Project> = {
  sql: {
    files: { '001_init.sql': INIT, '002_release.sql': RELEASE },
    history: `CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO schema_migrations (version) VALUES ('001_init');`,
  },
  'golang-migrate': {
    files: { '1_init.up.sql': INIT, '2_release.up.sql': RELEASE },
    history: `CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
      INSERT INTO schema_migrations VALUES (1, false);`,
  },
  flyway: {
    files: { 'V1__Init.sql': INIT, 'V2__Release.sql': RELEASE },
    history: `CREATE TABLE flyway_schema_history (
        installed_rank integer NOT NULL CONSTRAINT flyway_schema_history_pk PRIMARY KEY, version varchar(50),
        description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer,
        installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
        execution_time integer NOT NULL, success boolean NOT NULL);
      INSERT INTO flyway_schema_history VALUES (1, '1', 'Init', 'SQL', 'V1__Init.sql', ${flywayChecksum(INIT)}, 'app', now(), 20, true);`,
  },
  prisma: {
    files: {
      '20261101000000_init/migration.sql': INIT,
      '20261201000000_release/migration.sql': RELEASE,
      'migration_lock.toml': 'provider = "postgresql"\n',
    },
    history: `CREATE TABLE _prisma_migrations (
        id varchar(36) PRIMARY KEY NOT NULL, checksum varchar(64) NOT NULL, finished_at timestamptz,
        migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
        started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0);
      INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count)
      VALUES ('00000000-0000-4000-8000-000000000001', '${prismaChecksum(INIT)}', now(), '20261101000000_init', 1);`,
  },
  'node-pg-migrate': {
    files: {
      '1763900000000_init.js': `export const up = (pgm) => pgm.sql(${JSON.stringify(INIT)});\n`,
      '1764000000000_release.js': NODE_PG_RELEASE,
    },
    history: `CREATE TABLE pgmigrations (id serial PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
      INSERT INTO pgmigrations (name, run_on) VALUES ('1763900000000_init', now());`,
  },
  command: {
    files: {
      'alembic.ini': '[alembic]\nscript_location = migrations\n',
      'migrations/env.py': ALEMBIC_ENV,
      'migrations/script.py.mako': '',
      'migrations/versions/0001_init.py': alembicVersion('0001', null, INIT),
      'migrations/versions/0002_release.py': alembicVersion('0002', '0001', RELEASE),
    },
    history: `CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
      INSERT INTO alembic_version VALUES ('0001');`,
    migrations: { command: ['alembic', 'upgrade', 'head'] },
  },
};

async function refreshRelease(tool: string) {
  if (tool === 'command') {
    const found = await execa('alembic', ['--version'], { reject: false });
    if (found.failed)
      throw new Error(
        'this test runs a real alembic project: apt-get install alembic python3-psycopg2 (.ci/run does)',
      );
  }
  const project = PROJECTS[tool] as Project;
  const dir = await tempDir(`release-${tool}`);
  const migrationsDir = join(dir, 'migrations-repo');
  for (const [name, text] of Object.entries(project.files)) {
    await mkdir(dirname(join(migrationsDir, name)), { recursive: true });
    await writeFile(join(migrationsDir, name), text);
  }
  const live = uniqueDb(`rel_${tool}`);
  const { config, file } = await writeTestConfig(dir, live, {
    anonymize: ANONYMIZE,
    migrations: { tool, dir: migrationsDir, ...project.migrations },
    verify: {
      checks: [{ name: 'purchases kept their rows', sql: 'SELECT count(*) = 900 FROM public.purchases' }],
    },
  });
  await makeDump(join(dir, 'backups', 'prod.dump'), `${INIT}${DATA}\n${project.history}`);
  const record = await runRefresh(config, quiet);
  return { record, live, migrationsDir, file };
}

/** The environment a tool's own CLI needs to reach the refreshed staging database. */
function databaseEnv(live: string): Record<string, string> {
  const info = cluster();
  return {
    DATABASE_URL: `postgres://${info.user}:${encodeURIComponent(info.password)}@${info.host}:${info.port}/${live}`,
  };
}

describe('a release that drops and renames tables', () => {
  beforeAll(() => void cluster());

  it.each(Object.keys(PROJECTS))(
    '%s: refreshes successfully and checks what the migrations left',
    async (tool) => {
      const { record, live, migrationsDir, file } = await refreshRelease(tool);
      expect(record.error).toBeUndefined();
      expect(record.outcome).toBe('succeeded');
      expect(record.migrations.map((m) => m.status)).toEqual(['applied']);
      const checks = Object.fromEntries(record.verify.checks.map((check) => [check.name, check]));
      expect(checks['archive-tables-present']).toMatchObject({
        status: 'passed',
        message: 'all 4 tables restored',
      });
      expect(checks['purchases kept their rows']?.status).toBe('passed');
      expect(checks['no-leak:public.users.email']).toMatchObject({ status: 'passed' });
      expect(checks['no-leak:public.legacy_contacts.email']).toMatchObject({
        status: 'passed',
        message: expect.stringContaining('gone after the migrations'),
      });
      const tables = await sql<{ name: string }>(
        live,
        `SELECT relname AS name FROM pg_class WHERE relname IN ('orders', 'purchases', 'legacy_contacts') AND relkind = 'r'`,
      );
      expect(tables.map((row) => row.name)).toEqual(['purchases']);

      // The tool itself, run against the refreshed staging database, finds nothing to do.
      if (tool === 'node-pg-migrate') {
        const cli = await execa(
          process.execPath,
          ['node_modules/node-pg-migrate/bin/node-pg-migrate.js', 'up', '-m', migrationsDir],
          { env: databaseEnv(live), reject: false },
        );
        expect(cli.stdout).toContain('No migrations to run!');
        expect(cli.exitCode).toBe(0);
        // plan asks node-pg-migrate itself what live staging lacks.
        await sql(live, `DELETE FROM pgmigrations WHERE name = '1764000000000_release'`);
        const plan = await runCli(['plan', '--config', file, '--json']);
        expect(plan.exitCode).toBe(0);
        expect(JSON.parse(plan.stdout).migrations.pending).toEqual([{ name: '1764000000000_release' }]);
      }
      if (tool === 'prisma') {
        // Prisma's own schema engine: nothing unapplied, edited or failed.
        expect(await prismaDiagnose(live, migrationsDir)).toMatchObject({
          history: null,
          editedMigrationNames: [],
          failedMigrationNames: [],
        });
      }
      if (tool === 'command') {
        const current = await execa('alembic', ['current'], { cwd: migrationsDir, env: databaseEnv(live) });
        expect(current.stdout).toContain('0002 (head)');
        const plan = await runCli(['plan', '--config', file, '--json']);
        expect(plan.exitCode).toBe(0);
        expect(JSON.parse(plan.stdout).migrations).toMatchObject({
          tool: 'command',
          pending: [],
          notes: [expect.stringContaining('the plan cannot list it')],
        });
      }
    },
  );
});
