// PostgreSQL 17's client tools for the tests that need a second client major beside the server's
// (the image installs several; the run must choose the right one — client-tools.ts): what
// PostgreSQL 17 really writes (archive format 1.16) and really sends (SET transaction_timeout).
// Debian bookworm ships only 15, so `npm test` (prerequisites.ts, as root) unpacks Debian
// trixie's packages into .cache/pg17-client — not installed: they need trixie's C library, so
// each tool runs through trixie's own dynamic loader. $PG17_BIN names other PostgreSQL 17 tools.
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';

const CACHE = resolve(import.meta.dirname, '../../.cache/pg17-client');
const PACKAGES = ['postgresql-client-17', 'libpq5', 'libldap2', 'libc6'];
const TOOLS = ['pg_dump', 'pg_restore', 'psql', 'vacuumdb'];

/** The directory of PostgreSQL 17's pg_dump and pg_restore, when the tests have them. */
export function pg17BinDir(env: Record<string, string | undefined> = process.env): string | undefined {
  const dir = env.PG17_BIN ?? join(CACHE, 'bin');
  return existsSync(join(dir, 'pg_restore')) ? dir : undefined;
}

/** Downloads and unpacks trixie's PostgreSQL 17 client (root, Debian); the bin directory. */
export async function provisionPg17Client(): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'pg17-client-'));
  try {
    const apt = [
      '-o',
      `Dir::Etc::sourcelist=${join(work, 'trixie.list')}`,
      '-o',
      'Dir::Etc::sourceparts=-',
      '-o',
      `Dir::State::Lists=${join(work, 'lists')}`,
      '-o',
      `Dir::Cache=${join(work, 'cache')}`,
      '-o',
      'APT::Sandbox::User=root',
    ];
    await mkdir(join(work, 'lists', 'partial'), { recursive: true });
    await mkdir(join(work, 'cache', 'archives', 'partial'), { recursive: true });
    await writeFile(join(work, 'trixie.list'), 'deb http://deb.debian.org/debian trixie main\n');
    await execa('apt-get', [...apt, 'update', '-qq']);
    await execa('apt-get', [...apt, 'download', ...PACKAGES], { cwd: work });
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
    const system = `/usr/lib/${libDir.split('/').at(-1)}`;
    const bin = join(CACHE, 'bin');
    await mkdir(bin);
    for (const tool of TOOLS) {
      const wrapper = join(bin, tool);
      await writeFile(
        wrapper,
        `#!/bin/sh\nexec '${join(libDir, loader)}' --library-path '${libDir}:${system}' '${join(root, 'usr/lib/postgresql/17/bin', tool)}' "$@"\n`,
      );
      await chmod(wrapper, 0o755);
    }
    const { stdout } = await execa(join(bin, 'pg_restore'), ['--version']);
    if (!/\(PostgreSQL\) 17\./.test(stdout)) throw new Error(`unexpected pg_restore: ${stdout}`);
    return bin;
  } catch (error) {
    await rm(CACHE, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
