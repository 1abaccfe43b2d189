// config/example.yaml works as shipped once a user fills in the values it marks "yours:" (and,
// for this machine, the work dir and the S3-compatible endpoint): a real run from S3 with the
// example's own anonymization rules, verify check, e-mail and a control database nobody created.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { exampleComments } from '../../scripts/lib/config-reference.js';
import { cluster, databasesLike, makeDump, sql, tempDir, uniqueDb } from '../harness/pg-test-env.js';
import { runCli } from '../harness/run-cli.js';
import { S3_CREDENTIALS, type S3TestServer, startS3Server } from '../harness/s3-server.js';
import { type SmtpCatcher, startSmtpCatcher } from '../harness/smtp-catcher.js';

// The tables the example's rules are written for.
const PRODUCTION = `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, full_name text, phone text, birth_date date,
    country text, password_hash text, api_token text, national_id text, contact_email text, profile jsonb);
  INSERT INTO users SELECT g, 'user' || g || '@mail.example', 'Name ' || g, '+31 6 1234' || lpad(g::text, 4, '0'),
    date '1980-01-01' + g, 'NL', 'hash' || g, 'tok' || g, 'NID' || g, 'c' || g || '@mail.example',
    jsonb_build_object('address', jsonb_build_object('street', g || ' Main St'))
    FROM generate_series(1, 2000) g;
  CREATE TABLE sessions (id bigint PRIMARY KEY, user_id bigint, token text);
  INSERT INTO sessions SELECT g, g, md5(g::text) FROM generate_series(1, 500) g;
  CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`;

describe('config/example.yaml', () => {
  let s3: S3TestServer;
  let smtp: SmtpCatcher;
  let dir: string;
  beforeAll(async () => {
    cluster();
    dir = await tempDir('example-config');
    s3 = await startS3Server(join(dir, 's3'), ['prod-backups']);
    smtp = await startSmtpCatcher();
  });
  afterAll(async () => {
    await s3?.stop();
    await smtp?.close();
  });

  it('runs with only the values marked "yours:" filled in', async () => {
    const info = cluster();
    const example = await readFile(new URL('../../config/example.yaml', import.meta.url), 'utf8');
    const live = uniqueDb('example');
    const control = uniqueDb('example_control');
    const server = `${info.host}:${info.port}`;
    await makeDump(join(dir, 'prod.dump'), PRODUCTION);
    await s3.upload('prod-backups', 'pg/app/app-2026-12-01.dump', join(dir, 'prod.dump'));
    await mkdir(join(dir, 'migrations'));
    await writeFile(
      join(dir, 'migrations', '20261201_users_email_index.sql'),
      'CREATE INDEX ON users (email);\n',
    );
    await writeFile(join(dir, 'migrations', '20261201_users_email_index.down.sql'), 'SELECT 1;\n');

    // What the user fills in: exactly the keys the example marks "yours:" (the anonymization
    // rules and the verify check are the example's own, written for the tables above).
    const yours: Record<string, unknown> = {
      'source.s3.bucket': 'prod-backups',
      'source.s3.region': 'us-east-1',
      'target.url': `postgres://${info.user}@${server}/${live}`,
      'target.allow': [`${server}/${live}`],
      'production.hosts': ['prod-db.internal'],
      'anonymize.secret': undefined, // as in the example: from $ANONYMIZE_SECRET
      'anonymize.tables': undefined, // as in the example
      'migrations.dir': './migrations',
      'report.email.smtp': smtp.url,
      'report.email.from': 'refresh@example.com',
      'report.email.to': ['db-team@example.com'],
    };
    const marked = [...exampleComments(example)]
      .filter(([, comment]) => comment.startsWith('yours'))
      .map(([p]) => p);
    expect(marked.sort()).toEqual(Object.keys(yours).sort());

    const document = parseDocument(example);
    for (const [path, value] of Object.entries(yours))
      if (value !== undefined) document.setIn(path.split('.'), value);
    // This machine: a work dir that exists here, the local S3-compatible server (the example
    // shows both keys commented out), and the control database, not created by anyone.
    document.setIn(['workDir'], join(dir, 'work'));
    document.setIn(['source', 's3', 'endpoint'], s3.endpoint);
    document.setIn(['source', 's3', 'forcePathStyle'], true);
    document.setIn(['control', 'url'], `postgres://${info.user}@${server}/${control}`);
    const file = join(dir, 'staging-refresh.yaml');
    await writeFile(file, document.toString());

    const run = await runCli(['run', '-c', file], {
      PGPASSWORD: info.password,
      ANONYMIZE_SECRET: 'example-secret',
      ...S3_CREDENTIALS,
    });
    expect(run.exitCode, run.all).toBe(0);
    const [mail] = await smtp.waitFor(1);
    expect(mail?.subject).toMatch(/^staging refresh /);
    expect(await databasesLike(control)).toEqual([control]);
    const rows = await sql<{ email: string; sessions: string }>(
      live,
      'SELECT (SELECT email FROM users WHERE id = 1) AS email, (SELECT count(*) FROM sessions) AS sessions',
    );
    expect(rows[0]?.email).not.toBe('user1@mail.example');
    expect(Number(rows[0]?.sessions)).toBe(0);
  });
});
