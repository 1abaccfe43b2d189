// A migrator that fails and prints everything it was given — the password, DATABASE_URL, a
// unique violation quoting a real value — leaves none of it in the CLI's output, the logs, the
// record or the HTML report.
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scrub } from '../../src/secrets/secret-scrub.js';
import { cluster, makeDump, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { runCli } from '../harness/run-cli.js';

const LEAKY = `
  console.error('connecting to ' + process.env.DATABASE_URL + ' with password ' + process.env.PGPASSWORD);
  console.error('ERROR: duplicate key value violates unique constraint "users_email_key"');
  console.error('DETAIL: Key (email)=(alice@real.example) already exists.');
  process.exit(3);`;

describe('secret scrubbing', () => {
  let dump: string;
  beforeAll(async () => {
    cluster();
    dump = await makeDump(
      join(await tempDir('scrub-dumps'), 'a.dump'),
      'CREATE TABLE users (id int, email text);',
    );
  });

  it('a failing command migrator that prints the password: absent from every output', async () => {
    const { password } = cluster();
    const dir = await tempDir('scrub');
    const live = uniqueDb('scrub');
    const { file, config } = await writeTestConfig(dir, live, {
      migrations: { tool: 'command', command: [process.execPath, '-e', LEAKY] },
    });
    await copyFile(dump, join(dir, 'backups', 'a.dump'));
    const result = await runCli(['run', '--config', file], { PGPASSWORD: password, LOG_LEVEL: 'debug' });
    expect(result.exitCode).toBe(1);
    const record = await readFile(join(config.report.dir, 'latest.json'), 'utf8');
    const html = await readFile(JSON.parse(record).report.html, 'utf8');
    // The migrator's output did reach the record — scrubbed.
    expect(record).toContain('with password [redacted]');
    expect(record).toContain('Key (email)=(…) already exists');
    for (const text of [String(result.all), record, html]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(encodeURIComponent(password));
      expect(text).not.toContain('alice@real.example');
    }
  });

  it('scrub leaves ordinary text alone', () => {
    expect(scrub('Key (id)=(5) is not present in table "users".')).toBe(
      'Key (id)=(…) is not present in table "users".',
    );
    expect(scrub('Failing row contains (1, bob@x.example, null).')).toBe('Failing row contains (…).');
    expect(scrub('CREATE INDEX users_email_idx ON users (email)')).toBe(
      'CREATE INDEX users_email_idx ON users (email)',
    );
  });
});
