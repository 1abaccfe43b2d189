// npm run demo: the whole product on this machine in a few minutes. Starts a throwaway
// PostgreSQL cluster, a local S3 server (s3rver) and an SMTP catcher, generates a
// production-like database, dumps and uploads it, writes pending migrations, runs the real CLI,
// shows the report, keeps the report files and the captured e-mail under ./demo-output, and
// cleans everything else up — also when interrupted (Ctrl-C, SIGTERM): see lib/cleanup.ts.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { pgBinDir } from '../src/infra/pg/pg-bin.js';
import { clusterQuery, startCluster } from '../test/harness/pg-cluster.js';
import { S3_CREDENTIALS, startS3Server } from '../test/harness/s3-server.js';
import { startSmtpCatcher } from '../test/harness/smtp-catcher.js';
import { Cleanup } from './lib/cleanup.js';
import { DEMO_MIGRATIONS, productionRules, productionSql } from './lib/production-db.js';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false } },
});
const rows = Number(values.rows);
const say = (text: string) => process.stdout.write(`\n\x1b[1m▶ ${text}\x1b[0m\n`);

if (!pgBinDir() || !existsSync(join(pgBinDir() as string, 'initdb'))) {
  process.stderr.write(
    'The demo needs the PostgreSQL server binaries (initdb, pg_ctl) and client tools (pg_dump, pg_restore).\n' +
      'On Debian/Ubuntu: sudo apt-get install postgresql postgresql-client\n' +
      'Elsewhere: install PostgreSQL >= 15 and set PG_BIN to its bin directory.\n',
  );
  process.exit(69);
}

const output = resolve('demo-output');
const cleanup = new Cleanup();
cleanup.installSignalHandlers((text) => say(text));
let work = '';
try {
  work = await cleanup.acquire('the work dir', mkdtemp(join(tmpdir(), 'staging-refresh-demo-')), (dir) =>
    values.keep ? Promise.resolve() : rm(dir, { recursive: true, force: true }),
  );
  say(`starting a throwaway PostgreSQL cluster, a local S3 server and an SMTP catcher (work dir ${work})`);
  const { info } = await cleanup.acquire('PostgreSQL', startCluster(), (cluster) => cluster.stop());
  const smtp = await cleanup.acquire('the SMTP catcher', startSmtpCatcher(), (catcher) => catcher.close());
  const s3 = await cleanup.acquire(
    'the S3 server',
    startS3Server(join(work, 's3'), ['prod-backups']),
    (server) => server.stop(),
  );
  const admin = async (database: string, sql: string): Promise<void> => {
    await clusterQuery(info, database, sql);
  };

  say(
    `generating a production-like database: ${rows.toLocaleString('en')} orders, ${Math.floor(rows / 4).toLocaleString('en')} users, payments, sessions`,
  );
  await admin('postgres', 'CREATE DATABASE production');
  await admin('production', productionSql(rows));
  await admin('production', 'VACUUM ANALYZE');
  const pgEnv = {
    PGHOST: info.host,
    PGPORT: String(info.port),
    PGUSER: info.user,
    PGPASSWORD: info.password,
  };

  say('backing it up with pg_dump -Fc and uploading it to S3, as the production backup job would');
  await mkdir(join(work, 'backups'), { recursive: true });
  const key = `pg/app/app-${new Date().toISOString().slice(0, 10)}.dump`;
  const dump = join(work, 'backups', 'app.dump');
  await execa(join(info.binDir, 'pg_dump'), ['--format=custom', `--file=${dump}`, 'production'], {
    env: pgEnv,
    cancelSignal: cleanup.signal,
  });
  await s3.upload('prod-backups', key, dump);
  process.stdout.write(`  s3://prod-backups/${key} at ${s3.endpoint}\n`);
  await admin('postgres', 'CREATE DATABASE app'); // last week's staging, so there is something to swap out

  say('writing the migrations directory: 2 already applied in production, 4 pending');
  const migrations = join(work, 'migrations');
  await mkdir(migrations);
  for (const [name, sql] of Object.entries(DEMO_MIGRATIONS)) await writeFile(join(migrations, name), sql);

  const config = {
    source: {
      s3: { bucket: 'prod-backups', prefix: 'pg/app/', endpoint: s3.endpoint, forcePathStyle: true },
      maxAge: '8d',
    },
    workDir: join(work, 'work'),
    target: {
      url: `postgres://${info.user}@${info.host}:${info.port}/app`,
      allow: [`${info.host}:${info.port}/app`],
      jobs: 2,
      swapGrace: '2s',
    },
    production: { hosts: ['prod-db.internal'] },
    anonymize: productionRules('demo-secret-change-me'),
    migrations: { tool: 'sql', dir: migrations, rollback: 'rehearse', dangerousBlocking: '500ms' },
    report: {
      dir: join(work, 'reports'),
      email: { smtp: smtp.url, from: 'staging-refresh@example.com', to: ['db-team@example.com'] },
    },
  };
  const configFile = join(work, 'staging-refresh.yaml');
  await writeFile(configFile, stringify(config));

  say('running the real CLI: staging-refresh run --config staging-refresh.yaml');
  // The built CLI (npm run demo builds it); from source through tsx when there is no build.
  const cli = existsSync(resolve('dist/cli.js'))
    ? [resolve('dist/cli.js')]
    : ['--import', 'tsx', resolve('src/cli.ts')];
  const child = execa(process.execPath, [...cli, 'run', '--config', configFile], {
    env: { PGPASSWORD: info.password, LOG_LEVEL: 'info', ...S3_CREDENTIALS },
    stdio: 'inherit',
    reject: false,
  });
  // Interrupted: the CLI gets SIGTERM, drops its __next database and exits before the cluster stops.
  await cleanup.acquire('the CLI run', Promise.resolve({ child }), async (running) => {
    running.child.kill('SIGTERM');
    await running.child;
  });
  const run = await child;

  await smtp.waitFor(1).catch(() => undefined);
  await mkdir(output, { recursive: true });
  const { readdir, readFile } = await import('node:fs/promises');
  for (const name of await readdir(config.report.dir))
    await copyFile(join(config.report.dir, name), join(output, name));
  const { runId } = JSON.parse(await readFile(join(output, 'latest.json'), 'utf8')) as { runId: string };
  const files = [join(output, `${runId}.json`), join(output, `${runId}.html`)];
  const emails = smtp.raws.map((raw, index) => ({
    raw,
    file: join(output, `${runId}-email-${index + 1}.eml`),
  }));
  files.push(...emails.map((email) => email.file));
  await Promise.all(emails.map((email) => writeFile(email.file, email.raw)));
  say(
    `the run exited ${run.exitCode}; ${smtp.messages.length} e-mail captured: "${smtp.messages[0]?.subject ?? '(none)'}"`,
  );
  process.stdout.write(`Files:\n${files.map((file) => `  ${file}`).join('\n')}\n`);
  process.exitCode = run.exitCode === 0 && smtp.messages.length > 0 ? 0 : 1;
} catch (error) {
  if (!cleanup.interruptedBy) throw error; // interrupted: the failure is the cluster going away
} finally {
  if (!cleanup.interruptedBy)
    say(
      values.keep
        ? `kept ${work} (--keep); the cluster is stopped`
        : 'cleaning up the cluster and the work dir',
    );
  await cleanup.run();
}
