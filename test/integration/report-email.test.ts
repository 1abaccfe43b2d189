// The report e-mail, received by a real SMTP server and parsed as a mail client would.
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { freePort } from '../harness/pg-cluster.js';
import { cluster, makeDump, quiet, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { type SmtpCatcher, startSmtpCatcher } from '../harness/smtp-catcher.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/migrations/sql', import.meta.url));
const PRODUCTION = `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
  CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, total numeric(10,2));
  INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 20000) g;
  INSERT INTO orders SELECT g, 1 + g % 20000, g FROM generate_series(1, 400000) g;
  CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO schema_migrations (version) VALUES ('20261101_create_users'), ('20261102_create_orders');`;

describe('report e-mail', () => {
  let smtp: SmtpCatcher;
  let dump: string;

  beforeAll(async () => {
    cluster();
    smtp = await startSmtpCatcher();
    dump = await makeDump(join(await tempDir('mail-dump'), 'prod.dump'), PRODUCTION);
  });
  afterAll(() => smtp.close());

  it('arrives with the verdict in the subject, the checklist in HTML and text, and the stored record attached', async () => {
    const dir = await tempDir('mail');
    const { config } = await writeTestConfig(dir, uniqueDb('mail'), {
      migrations: { dir: FIXTURES, dangerousBlocking: '10ms' },
      report: {
        dir: join(dir, 'reports'),
        email: { smtp: smtp.url, from: 'refresh@example.com', to: ['db-team@example.com'] },
      },
    });
    await copyFile(dump, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    const [mail] = await smtp.waitFor(1);
    const index = record.migrations.find((m) => m.name === '20261110_orders_user_index')!;
    expect(index.verdict).toBe('dangerous');

    expect(mail!.subject).toMatch(
      /^staging refresh \d{4}-\d{2}-\d{2}: 3 pending migrations, (1|\d dangerous, the worst) blocks writes on orders for ~\d/,
    );
    expect(mail!.to).toMatchObject({ text: 'db-team@example.com' });
    const html = String(mail!.html);
    const text = String(mail!.text);
    for (const body of [html, text]) {
      expect(body).toContain('20261110_orders_user_index');
      expect(body).toContain('20261120_orders_user_fk');
      expect(body).toMatch(/dangerous/i);
      expect(body).toContain('ShareLock');
    }
    expect(html).not.toMatch(/<script|<img|<link/i);
    expect(html.indexOf('20261110_orders_user_index')).toBeLessThan(
      html.indexOf('20261115_users_last_login'),
    );
    expect(html).toContain('pg_stat_progress_create_index');

    const attachment = mail!.attachments.find((a) => a.filename === `${record.runId}.json`)!;
    const stored = await readFile(join(config.report.dir, `${record.runId}.json`), 'utf8');
    expect(JSON.parse(attachment.content.toString('utf8'))).toEqual(JSON.parse(stored));
    expect(JSON.parse(stored).report.email).toEqual({ to: ['db-team@example.com'], subject: mail!.subject });
    expect(await readFile(join(config.report.dir, `${record.runId}.html`), 'utf8')).toContain(
      '<!DOCTYPE html>',
    );
  });

  it('a mail server that is down does not fail a good refresh: retried, then a warning', async () => {
    const dir = await tempDir('nomail');
    const deadPort = await freePort();
    const { config } = await writeTestConfig(dir, uniqueDb('nomail'), {
      report: {
        dir: join(dir, 'reports'),
        email: { smtp: `smtp://127.0.0.1:${deadPort}`, from: 'r@example.com', to: ['t@example.com'] },
      },
    });
    await copyFile(dump, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, { ...quiet, mailRetry: { attempts: 3, backoffMs: 10 } });
    expect(record.outcome).toBe('succeeded');
    expect(record.exitCode).toBe(0);
    expect(record.warnings.join('\n')).toMatch(
      new RegExp(`report e-mail not sent after 3 attempts: smtp://127.0.0.1:${deadPort}`),
    );
    const stored = JSON.parse(await readFile(join(config.report.dir, 'latest.json'), 'utf8'));
    expect(stored.report.email).toMatchObject({ sent: false, attempts: 3 });
  });

  it('a failed refresh is reported too, to the onFailure recipients as well', async () => {
    const dir = await tempDir('failmail');
    const { config } = await writeTestConfig(dir, uniqueDb('failmail'), {
      report: {
        dir: join(dir, 'reports'),
        email: {
          smtp: smtp.url,
          from: 'r@example.com',
          to: ['team@example.com'],
          onFailure: ['oncall@example.com'],
        },
      },
    });
    // No backup at all: the run fails in locate.
    const before = smtp.messages.length;
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(65);
    const mails = await smtp.waitFor(before + 1);
    const mail = mails[before]!;
    expect(mail.subject).toMatch(/FAILED in locate: no backup found/);
    expect(String(mail.text)).toContain('what to do:');
    expect(JSON.stringify(mail.to)).toContain('oncall@example.com');
  });
});
