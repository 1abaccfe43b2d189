// PostgreSQL majors bookworm does not ship, for the tests: a newer Debian suite's packages
// downloaded (not installed: they need that suite's C library) and unpacked into .cache/, each
// ELF binary pointed at the unpacked dynamic loader and libraries with patchelf. pg17.ts (server
// and client, Debian trixie) and pg18.ts (client, Debian forky) say which.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';

/** One major's packages from one suite, unpacked under .cache/<name>. */
export interface DebianPg {
  major: number;
  /** The Debian suites that may have it, tried in turn (`trixie`; `forky`, then `sid`). */
  suites: readonly string[];
  /** Its packages and what bookworm's libraries are too old for. */
  packages: readonly string[];
  /** The directory under .cache/. */
  name: string;
  /** The binaries that must be there (and print this major's version). */
  tools: readonly string[];
}

/** Where `pg`'s binaries are unpacked. */
export function debianPgBin(pg: DebianPg): string {
  return resolve(import.meta.dirname, '../../.cache', pg.name, `root/usr/lib/postgresql/${pg.major}/bin`);
}

/** The bin directory `dir` (or the unpacked one), when every tool of `pg` is in it. */
export function debianPgBinDir(pg: DebianPg, dir: string | undefined): string | undefined {
  const bin = dir ?? debianPgBin(pg);
  return pg.tools.every((tool) => existsSync(join(bin, tool))) ? bin : undefined;
}

/** Downloads `pg`'s packages and unpacks them runnable (root, Debian, apt); the bin directory. */
export async function provisionDebianPg(pg: DebianPg): Promise<string> {
  const cache = resolve(import.meta.dirname, '../../.cache', pg.name);
  const bin = debianPgBin(pg);
  const work = await mkdtemp(join(tmpdir(), `${pg.name}-`));
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
    const suite = await downloadFromFirst(pg, work);
    const root = join(cache, 'root');
    await rm(cache, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    for (const deb of readdirSync(work).filter((name) => name.endsWith('.deb')))
      await execa('dpkg-deb', ['-x', join(work, deb), root]);
    const libDir = readdirSync(join(root, 'usr/lib'))
      .filter((name) => name.endsWith('-linux-gnu'))
      .map((name) => join(root, 'usr/lib', name))[0];
    const loader = libDir && readdirSync(libDir).find((name) => /^ld-linux.*\.so\.\d+$/.test(name));
    if (!libDir || !loader) throw new Error(`${suite}'s libc6 has no dynamic loader where expected`);
    // RPATH, not RUNPATH: it also serves the libraries the extensions (plpgsql.so…) load. Only ELF
    // executables: a script among the binaries is left as it is.
    for (const name of readdirSync(bin)) {
      const file = join(bin, name);
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
    for (const tool of pg.tools) {
      const { stdout } = await execa(join(bin, tool), ['--version']);
      if (!new RegExp(`\\(PostgreSQL\\) ${pg.major}\\.`).test(stdout))
        throw new Error(`unexpected ${tool}: ${stdout}`);
    }
    return bin;
  } catch (error) {
    await rm(cache, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Downloads `pg`'s packages into `work` from the first of its suites that has them all (a testing
 * suite drops a major when the next one comes); the suite.
 */
async function downloadFromFirst(pg: DebianPg, work: string): Promise<string> {
  const failures: string[] = [];
  for (const suite of pg.suites) {
    const state = join(work, suite);
    const apt = [
      ['Dir::Etc::sourcelist', join(state, 'sources.list')],
      ['Dir::Etc::sourceparts', '-'],
      ['Dir::State::Lists', join(state, 'lists')],
      ['Dir::Cache', join(state, 'cache')],
      ['APT::Sandbox::User', 'root'],
    ].flatMap(([key, value]) => ['-o', `${key}=${value}`]);
    await mkdir(join(state, 'lists', 'partial'), { recursive: true });
    await mkdir(join(state, 'cache', 'archives', 'partial'), { recursive: true });
    await writeFile(join(state, 'sources.list'), `deb http://deb.debian.org/debian ${suite} main\n`);
    try {
      // Twice: a mirror's hiccup should not fail a CI run that requires it.
      await retry(() => execa('apt-get', [...apt, 'update', '-qq']));
      await retry(() => execa('apt-get', [...apt, 'download', ...pg.packages], { cwd: work }));
      return suite;
    } catch (error) {
      failures.push(`${suite}: ${(error as Error).message.split('\n').at(-1) ?? ''}`);
      for (const deb of readdirSync(work).filter((name) => name.endsWith('.deb'))) await rm(join(work, deb));
    }
  }
  throw new Error(
    `no Debian suite has PostgreSQL ${pg.major}'s packages (${failures.join('; ')}): set PG${pg.major}_BIN to a PostgreSQL ${pg.major} bin directory, or name a suite that has them in scripts/lib/pg${pg.major}.ts`,
  );
}

async function retry<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    return attempt();
  }
}
