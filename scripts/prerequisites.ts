// `tsx scripts/prerequisites.ts test|demo`, run by npm before `npm test` and `npm run demo`:
// finds what the tests or the demo need beyond Node and, when it is missing, installs it with
// apt-get as root (no services started: the tests start their own), or prints the one command
// to run first and exits 1. Quiet when everything is there.
// STAGING_REFRESH_NO_INSTALL=1: never install, only say what is missing.
import { existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import {
  installCommand,
  missingPrerequisites,
  type Prerequisite,
} from '../src/infra/process/prerequisites.js';
import { demoPrerequisites, satisfiesEngines, testPrerequisites } from './lib/dev-prerequisites.js';
import { pg17BinDir, provisionPg17 } from './lib/pg17.js';
import { pg18BinDir, provisionPg18 } from './lib/pg18.js';

const POLICY = '/usr/sbin/policy-rc.d';

const purpose = process.argv[2];
if (purpose !== 'test' && purpose !== 'demo') {
  process.stderr.write('usage: tsx scripts/prerequisites.ts test|demo\n');
  process.exit(64);
}
const asRoot = process.getuid?.() === 0;
const mayInstall = asRoot && process.env.STAGING_REFRESH_NO_INSTALL !== '1';

checkNode();
const wanted = purpose === 'test' ? testPrerequisites(asRoot) : demoPrerequisites(asRoot);
let missing = missingPrerequisites(wanted);
const needsPostgresUser = asRoot && !(await userExists('postgres'));

if (missing.length > 0 && !mayInstall) {
  process.stderr.write(
    `npm ${purpose === 'test' ? 'test' : 'run demo'} needs what this machine lacks:\n${describe(missing)}` +
      `Install it first (Debian/Ubuntu), then run again:\n  ${installCommand(missing, asRoot)}\n` +
      'Elsewhere: install PostgreSQL >= 15 and set PG_BIN to its bin directory; CHROMIUM and PUSHGATEWAY name those binaries.\n',
  );
  process.exit(1);
}
if (missing.length > 0) {
  process.stdout.write(
    `--- installing what ${purpose === 'test' ? 'the tests need' : 'the demo needs'}:\n${describe(missing)}`,
  );
  await aptInstall(missing);
  missing = missingPrerequisites(wanted);
  if (missing.length > 0) {
    process.stderr.write(`still missing after apt-get install:\n${describe(missing)}`);
    process.exit(1);
  }
}
if (needsPostgresUser) {
  // initdb refuses root: the harness runs PostgreSQL as this user.
  process.stdout.write('--- adding the system user postgres (initdb refuses to run as root)\n');
  await execa('useradd', ['--system', '--create-home', '--shell', '/bin/bash', 'postgres'], {
    stdio: 'inherit',
  });
}

// PostgreSQL 17 (scripts/lib/pg17.ts): the second client major of the client tools tests and the
// server of CI's second pass; and PostgreSQL 18's client (scripts/lib/pg18.ts), the image's newest,
// for what only pg_dump 18 writes. Not apt packages on bookworm, so fetched on their own. Without
// them those tests are skipped, not failed — unless REQUIRE_PG17=1 / REQUIRE_PG18=1 (.ci/run sets
// both): then CI cannot pass with them quietly skipped.
if (purpose === 'test') {
  await provide(
    17,
    pg17BinDir(),
    provisionPg17,
    "PostgreSQL 17's server and client tools from Debian trixie",
  );
  await provide(18, pg18BinDir(), provisionPg18, "PostgreSQL 18's client tools from Debian forky");
}

async function provide(
  major: number,
  present: string | undefined,
  provision: () => Promise<string>,
  what: string,
): Promise<void> {
  if (present) return;
  const required = process.env[`REQUIRE_PG${major}`] === '1';
  const missing = (why: string) => {
    process.stdout.write(
      `    PostgreSQL ${major} not available (${why}): the tests that need it are skipped\n`,
    );
    if (required) {
      process.stderr.write(`REQUIRE_PG${major}=1: PostgreSQL ${major} is required for these tests\n`);
      process.exit(1);
    }
  };
  if (!mayInstall) return missing(`not root, and PG${major}_BIN not set`);
  process.stdout.write(`--- unpacking ${what} into .cache/pg${major}\n`);
  await provision().then(
    (dir) => process.stdout.write(`    ${dir}\n`),
    (error: unknown) =>
      missing(error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)),
  );
}

function describe(list: readonly Prerequisite[]): string {
  return list.map((p) => `  ${p.name} (${p.neededFor}): package ${p.packages.join(' or ')}\n`).join('');
}

/** Node within package.json's engines (">=20.19 <25"), else exit 1 saying which are supported. */
function checkNode(): void {
  const engines = (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      engines: { node: string };
    }
  ).engines.node;
  if (!satisfiesEngines(process.versions.node, engines)) {
    process.stderr.write(
      `Node ${process.versions.node} is not supported: use Node ${engines} (24 LTS recommended)\n`,
    );
    process.exit(1);
  }
}

async function userExists(name: string): Promise<boolean> {
  return (await execa('id', ['-u', name], { reject: false })).exitCode === 0;
}

/** apt-get update, then install the first available package of each missing prerequisite. */
async function aptInstall(list: readonly Prerequisite[]): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await execa('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const packages = new Set<string>();
  for (const prerequisite of list) {
    const available = await firstAvailable(prerequisite.packages);
    packages.add(available ?? (prerequisite.packages[0] as string));
  }
  // Start no services (Debian's default cluster, the pushgateway): the tests start their own.
  // An existing policy is left alone.
  const madePolicy = !existsSync(POLICY);
  if (madePolicy)
    await execa('sh', ['-c', `printf '#!/bin/sh\\nexit 101\\n' > ${POLICY} && chmod +x ${POLICY}`]);
  try {
    await execa('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
      stdio: 'inherit',
      env,
    });
  } finally {
    if (madePolicy) await execa('rm', ['-f', POLICY]);
  }
}

async function firstAvailable(candidates: readonly string[]): Promise<string | undefined> {
  for (const name of candidates) {
    const { stdout, exitCode } = await execa('apt-cache', ['policy', name], { reject: false });
    const candidate = /Candidate:\s*(\S+)/.exec(stdout)?.[1];
    if (exitCode === 0 && candidate && candidate !== '(none)') return name;
  }
  return undefined;
}
