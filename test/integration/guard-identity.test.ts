// The guard compares identities: a target spelled differently from its production.hosts entry
// is still refused, by every command that connects, before a single connection is made. A
// listening socket stands in for production and counts the connections that reach it.
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../harness/pg-cluster.js';
import { cluster, tempDir } from '../harness/pg-test-env.js';
import { runCli } from '../harness/run-cli.js';

describe('guard identities', () => {
  let server: Server;
  let port: number;
  let connections = 0;
  beforeAll(async () => {
    cluster();
    server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function configFile(targetUrl: string, production: string[]): Promise<string> {
    const dir = await tempDir('guard-identity');
    const file = join(dir, 'config.yaml');
    await writeFile(
      file,
      stringify({
        source: { local: { path: join(dir, '*.dump') } },
        workDir: join(dir, 'work'),
        target: {
          url: targetUrl,
          allow: [`*:${port}/app`, `127.0.0.1:${port}/app`, `localhost:${port}/app`],
        },
        production: { hosts: production },
        report: { dir: join(dir, 'reports') },
        schedule: { cron: '0 3 * * 1', listen: '127.0.0.1:0' },
      }),
    );
    return file;
  }

  // PORT is the stand-in's port, known once it listens.
  const spellings: [string, string[], string[]][] = [
    [
      'postgres://postgres@127.1:PORT/app',
      ['localhost:PORT'],
      ['run', 'doctor', 'plan', 'rollback', 'serve'],
    ],
    ['postgres://postgres@LOCALHOST.:PORT/app', ['127.0.0.1'], ['run']],
    ['postgres://postgres@[::ffff:127.0.0.1]:PORT/app', ['localhost:PORT'], ['run']],
    ['postgres://postgres@/app?host=localhost&port=PORT', ['127.1'], ['doctor']],
  ];
  for (const [url, production, commands] of spellings) {
    it(`${commands.join(', ')} refuse ${url} (production ${production.join(', ')}) with exit 77 and no connection`, async () => {
      const withPort = (text: string) => text.replace('PORT', String(port));
      const file = await configFile(withPort(url), production.map(withPort));
      for (const command of commands) {
        const result = await runCli([command, '--config', file]);
        expect({ command, exitCode: result.exitCode }).toEqual({ command, exitCode: 77 });
        expect(result.all).toContain('production.hosts');
      }
      expect(connections).toBe(0);
    });
  }

  it('a target URL whose query string could lead elsewhere is refused with exit 78, unconnected', async () => {
    for (const query of ['hostaddr=127.0.0.1', `host=127.0.0.1&port=${port}`]) {
      const file = await configFile(`postgres://postgres@staging.invalid:5432/app?${query}`, []);
      const result = await runCli(['run', '--config', file]);
      expect({ query, exitCode: result.exitCode }).toEqual({ query, exitCode: 78 });
    }
    expect(connections).toBe(0);
  });
});
