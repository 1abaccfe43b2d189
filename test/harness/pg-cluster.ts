// A throwaway PostgreSQL cluster for integration tests: initdb + pg_ctl from the PostgreSQL
// bin directory, in a temp dir, on a free port, as a non-root user (initdb refuses root).
// Password auth over TCP, so the tool's PGPASSWORD path is what the tests exercise.
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { pgBinDir } from '../../src/infra/pg/pg-bin.js';

/** How tests reach the cluster (JSON-serialisable: handed to test files by vitest's provide). */
export interface ClusterInfo {
  host: string;
  port: number;
  user: string;
  password: string;
  dir: string;
  binDir: string;
}

export const HARNESS_PASSWORD = 'harness-Secret-8c1f';

/** Starts a cluster; call the returned stop() to tear it down. */
export async function startCluster(): Promise<{ info: ClusterInfo; stop: () => Promise<void> }> {
  const binDir = pgBinDir();
  if (!binDir)
    throw new Error('PostgreSQL server binaries not found: install postgresql (>= 15) or set PG_BIN');
  const dir = await mkdtemp(join(tmpdir(), 'staging-refresh-pg-'));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const run = (file: string, args: string[]) =>
    asRoot
      ? execa('runuser', ['-u', 'postgres', '--', join(binDir, file), ...args])
      : execa(join(binDir, file), args);

  await chmod(dir, 0o700);
  const pwfile = join(dir, 'pw');
  await writeFile(pwfile, `${HARNESS_PASSWORD}\n`);
  if (asRoot) {
    const { stdout } = await execa('id', ['-u', 'postgres']);
    const { stdout: gid } = await execa('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout), Number(gid));
    await chown(pwfile, Number(stdout), Number(gid));
  }
  const data = join(dir, 'data');
  await run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    `--pwfile=${pwfile}`,
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '--no-sync',
  ]);
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
    '-c shared_buffers=256MB',
    '-c maintenance_work_mem=256MB',
    '-c max_wal_size=4GB',
    '-c log_min_messages=warning',
  ].join(' ');
  await run('pg_ctl', ['-D', data, '-o', settings, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const info: ClusterInfo = {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: HARNESS_PASSWORD,
    dir,
    binDir,
  };
  return {
    info,
    stop: async () => {
      await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Restarts the server (fault tests); the data survives. */
export async function restartCluster(info: ClusterInfo): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  // -l again: restart does not remember the log file, and a postmaster writing to our pipe would
  // keep this call from ever returning.
  const args = [
    '-D',
    join(info.dir, 'data'),
    '-l',
    join(info.dir, 'server.log'),
    '-m',
    'fast',
    '-w',
    'restart',
  ];
  const file = join(info.binDir, 'pg_ctl');
  await (asRoot ? execa('runuser', ['-u', 'postgres', '--', file, ...args]) : execa(file, args));
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Runs one statement on `database` as the cluster's superuser (password auth) and returns the rows. */
export async function clusterQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(
  info: ClusterInfo,
  database: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({
    host: info.host,
    port: info.port,
    user: info.user,
    password: info.password,
    database,
  });
  // A server stopped under a running query (an interrupted demo) is the query's error, not a crash.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}
