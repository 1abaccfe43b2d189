import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { formatDuration, parseDuration } from '../../src/format/duration.js';

const MINIMAL = `
source: { local: { path: ./backups/*.dump } }
workDir: ./work
target: { url: postgres://refresh@staging-db:5432/app, allow: [staging-db:5432/app] }
`;

function problemsOf(text: string, env: Record<string, string> = {}): readonly string[] {
  try {
    parseConfig(text, env, '/etc/sr');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(78);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills defaults and resolves relative paths against the config file folder', () => {
    const config = parseConfig(MINIMAL, {}, '/etc/sr');
    expect(config.workDir).toBe('/etc/sr/work');
    expect(config.source.local?.path).toBe('/etc/sr/backups/*.dump');
    expect(config.source.maxAge).toBe(8 * 86_400_000);
    expect(config.target.keepPrevious).toBe(1);
    expect(config.target.swapGrace).toBe(10_000);
    expect(config.report.dir).toBe('/etc/sr/reports');
    expect(config.anonymize.unknownPii).toBe('fail');
  });

  it('accepts every key of the example in DESIGN.md', async () => {
    const { readFile } = await import('node:fs/promises');
    const example = await readFile(new URL('../../config/example.yaml', import.meta.url), 'utf8');
    const config = parseConfig(example, { ANONYMIZE_SECRET: 's3cr3t', SMTP_PASSWORD: 'x' }, '/etc/sr');
    expect(config.anonymize.secret).toBe('s3cr3t');
    expect(config.anonymize.tables['public.sessions']).toBe('truncate');
    expect(config.migrations?.tool).toBe('sql');
  });

  it('reports every problem at once, each with its key path', () => {
    const problems = problemsOf(`
source: { local: { path: x }, maxAge: soon }
workDir: ./work
target: { url: mysql://x, allow: [], jobs: 0, keepPrevios: 2 }
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^target\.url: expected a postgres:\/\//),
        expect.stringMatching(/^target\.allow: /),
        expect.stringMatching(/^target\.jobs: /),
        'target.keepPrevios: unknown key',
        expect.stringMatching(/^source\.maxAge: expected a duration .*"soon"/),
      ]),
    );
  });

  it('requires exactly one backup source', () => {
    expect(
      problemsOf(MINIMAL.replace('source: { local: { path: ./backups/*.dump } }', 'source: {}')),
    ).toEqual(['source: expected exactly one of source.s3 or source.local']);
  });

  it('interpolates environment variables and *_FILE secrets, and names what is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sr-cfg-'));
    await writeFile(join(dir, 'secret'), 'from-file\n');
    const text = `${MINIMAL}anonymize: { secret: '\${SECRET}' }\nreport: { dir: '\${REPORT_DIR:-/var/reports}' }\n`;
    expect(parseConfig(text, { SECRET: 'from-env' }, dir).anonymize.secret).toBe('from-env');
    const fromFile = parseConfig(text, { SECRET_FILE: join(dir, 'secret') }, dir);
    expect(fromFile.anonymize.secret).toBe('from-file');
    expect(fromFile.report.dir).toBe('/var/reports');
    expect(problemsOf(text)).toEqual([
      'anonymize.secret: environment variable SECRET is not set (nor SECRET_FILE)',
    ]);
  });

  it('does not let an interpolated value change the YAML structure', () => {
    const text = `${MINIMAL}anonymize: { secret: '\${SECRET}' }\n`;
    expect(parseConfig(text, { SECRET: 'a: b\nunknownPii: warn' }, '/').anonymize.unknownPii).toBe('fail');
  });

  it('rejects invalid YAML with a readable message', () => {
    expect(() => parseConfig('source: [unclosed', {}, '/')).toThrow(/not valid YAML/);
  });
});

describe('durations', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5h', 5_400_000],
    ['8d', 691_200_000],
    ['1w', 604_800_000],
  ])('parses %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', '5', 'soon', '5 years', '-1s'])('rejects %j', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  it.each([
    [850, '850ms'],
    [12_345, '12.3s'],
    [245_000, '4m05s'],
    [14_520_000, '4h02m'],
    [9 * 86_400_000 + 3 * 3_600_000, '9d3h'],
  ])('formats %d ms as %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
