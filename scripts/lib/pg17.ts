// PostgreSQL 17, server and client tools, for the tests: the image installs several client majors
// and production runs whichever it runs, so the suite runs once more against a 17 server (.ci/run),
// and test/integration/pg17-client.test.ts puts 17's client beside the 15 cluster. Debian bookworm
// ships only 15, so `npm test` (prerequisites.ts, as root) unpacks Debian trixie's packages into
// .cache/pg17 (debian-pg.ts). $PG17_BIN names another PostgreSQL 17 bin directory.
import { type DebianPg, debianPgBinDir, provisionDebianPg } from './debian-pg.js';

const PG17: DebianPg = {
  major: 17,
  suites: ['trixie'],
  name: 'pg17',
  // The server, its client, and what they need that bookworm's libraries are too old for.
  packages: [
    'postgresql-17',
    'postgresql-client-17',
    'libpq5',
    'libldap2',
    'libicu76',
    'libc6',
    'libstdc++6',
    'libgcc-s1',
  ],
  tools: ['pg_restore', 'postgres'],
};

/** The directory of PostgreSQL 17's binaries (server and client), when the tests have them. */
export function pg17BinDir(env: Record<string, string | undefined> = process.env): string | undefined {
  return debianPgBinDir(PG17, env.PG17_BIN);
}

/** Downloads trixie's PostgreSQL 17 and unpacks it runnable (root, Debian, apt); the bin directory. */
export function provisionPg17(): Promise<string> {
  return provisionDebianPg(PG17);
}
