// PostgreSQL 17, server and client tools, for the tests: the image installs several client majors
// and production runs whichever it runs, so the suite runs once more against a 17 server (.ci/run),
// and test/integration/pg17-client.test.ts puts 17's client beside the 15 cluster. Debian bookworm
// ships only 15, so `npm test` (prerequisites.ts, as root) unpacks Debian trixie's packages into
// .cache/pg17 — not installed: they need trixie's C library, so each binary is pointed at trixie's
// dynamic loader and libraries with patchelf. $PG17_BIN names another PostgreSQL 17 bin directory.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';

const CACHE = resolve(import.meta.dirname, '../../.cache/pg17');
const BIN = join(CACHE, 'root/usr/lib/postgresql/17/bin');
/** The server, its client, and what they need that bookworm's libraries are too old for. */
const PACKAGES = [
  'postgresql-17',
  'postgresql-client-17',
  'libpq5',
  'libldap2',
  'libicu76',
  'libc6',
  'libstdc++6',
  'libgcc-s1',
];

/** The directory of PostgreSQL 17's binaries (server and client), when the tests have them. */
export function pg17BinDir(env: Record<string, string | undefined> = process.env): string | undefined {
  const dir = env.PG17_BIN ?? BIN;
  return existsSync(join(dir, 'pg_restore')) && existsSync(join(dir, 'postgres')) ? dir : undefined;
}

/** Downloads trixie's PostgreSQL 17 and unpacks it runnable (root, Debian, apt); the bin directory. */
export async function provisionPg17(): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'pg17-'));
  try {
    if ((await execa('sh', ['-c', 'command -v patchelf'], { reject: false })).exitCode !== 0) {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const install = ['install', '-y', '-qq', '--no-install-recommends', 'patchelf'];
      // A fresh machine's package lists may be empty: update once if the first try cannot find it.
      if ((await execa('apt-get', install, { env, reject: false })).exitCode !== 0) {
        await execa('apt-get', ['update', '-qq'], { env });
        await execa('apt-get', install, { env });
      }
    }
    const apt = [
      ['Dir::Etc::sourcelist', join(work, 'trixie.list')],
      ['Dir::Etc::sourceparts', '-'],
      ['Dir::State::Lists', join(work, 'lists')],
      ['Dir::Cache', join(work, 'cache')],
      ['APT::Sandbox::User', 'root'],
    ].flatMap(([key, value]) => ['-o', `${key}=${value}`]);
    await mkdir(join(work, 'lists', 'partial'), { recursive: true });
    await mkdir(join(work, 'cache', 'archives', 'partial'), { recursive: true });
    await writeFile(join(work, 'trixie.list'), 'deb http://deb.debian.org/debian trixie main\n');
    // Twice: a mirror's hiccup should not fail a CI run that requires PostgreSQL 17.
    await retry(() => execa('apt-get', [...apt, 'update', '-qq']));
    await retry(() => execa('apt-get', [...apt, 'download', ...PACKAGES], { cwd: work }));
    const root = join(CACHE, 'root');
    await rm(CACHE, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    for (const deb of readdirSync(work).filter((name) => name.endsWith('.deb')))
      await execa('dpkg-deb', ['-x', join(work, deb), root]);
    const libDir = readdirSync(join(root, 'usr/lib'))
      .filter((name) => name.endsWith('-linux-gnu'))
      .map((name) => join(root, 'usr/lib', name))[0];
    const loader = libDir && readdirSync(libDir).find((name) => /^ld-linux.*\.so\.\d+$/.test(name));
    if (!libDir || !loader) throw new Error("trixie's libc6 has no dynamic loader where expected");
    // RPATH, not RUNPATH: it also serves the libraries the extensions (plpgsql.so…) load. Only ELF
    // executables: a script among the binaries is left as it is.
    for (const name of readdirSync(BIN)) {
      const file = join(BIN, name);
      if (!(await readFile(file)).subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) continue;
      await execa('patchelf', [
        '--set-interpreter',
        join(libDir, loader),
        '--force-rpath',
        '--set-rpath',
        libDir,
        file,
      ]);
    }
    for (const tool of ['postgres', 'pg_restore']) {
      const { stdout } = await execa(join(BIN, tool), ['--version']);
      if (!/\(PostgreSQL\) 17\./.test(stdout)) throw new Error(`unexpected ${tool}: ${stdout}`);
    }
    return BIN;
  } catch (error) {
    await rm(CACHE, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function retry<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    return attempt();
  }
}
