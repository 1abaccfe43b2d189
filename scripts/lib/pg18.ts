// PostgreSQL 18's client tools, for the tests: the image installs clients 15 to 18, and pg_dump 18
// writes what no older one does (its --statistics: STATISTICS DATA entries holding production's
// values). Debian trixie has no PostgreSQL 18, so `npm test` (prerequisites.ts, as root) unpacks
// Debian forky's client (else sid's) into .cache/pg18 (debian-pg.ts). Both are moving suites: when
// they drop 18 for 19, this fails saying so, and CI with it (REQUIRE_PG18) — name a suite that
// still has 18 here, or set $PG18_BIN to another PostgreSQL 18 bin directory.
import { type DebianPg, debianPgBinDir, provisionDebianPg } from './debian-pg.js';

const PG18: DebianPg = {
  major: 18,
  suites: ['forky', 'sid'],
  name: 'pg18',
  // The client and the libraries its binaries load that bookworm's are too old for or lack.
  packages: [
    'postgresql-client-18',
    'libpq5',
    'libc6',
    'libssl3t64',
    'libzstd1',
    'liblz4-1',
    'zlib1g',
    'libxxhash0',
    'libgssapi-krb5-2',
    'libkrb5-3',
    'libk5crypto3',
    'libkrb5support0',
    'libcom-err2',
    'libkeyutils1',
    'libldap2',
    'libsasl2-2',
    'libreadline8t64',
    'libtinfo6',
  ],
  tools: ['pg_dump', 'pg_restore', 'psql'],
};

/** The directory of PostgreSQL 18's client tools, when the tests have them. */
export function pg18BinDir(env: Record<string, string | undefined> = process.env): string | undefined {
  return debianPgBinDir(PG18, env.PG18_BIN);
}

/** Downloads forky's PostgreSQL 18 client and unpacks it runnable (root, Debian, apt); the bin directory. */
export function provisionPg18(): Promise<string> {
  return provisionDebianPg(PG18);
}
