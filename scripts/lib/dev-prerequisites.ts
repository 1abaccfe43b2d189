// What the tests and the demo need beyond Node, and where the harness finds each one. The test
// harness and scripts/lib/browser.ts look things up through these, so "present" here means
// "the tests will find it".
import { existsSync } from 'node:fs';
import {
  type Env,
  executable,
  isExecutable,
  onPath,
  type Prerequisite,
  pgBinary,
  RUN_PREREQUISITES,
} from '../../src/infra/process/prerequisites.js';

/** initdb + pg_ctl: the throwaway clusters of the tests, the demo and the bench. */
export const POSTGRES_SERVER: readonly Prerequisite[] = [
  pgBinary('initdb', ['postgresql'], 'the throwaway PostgreSQL cluster'),
  pgBinary('pg_ctl', ['postgresql'], 'the throwaway PostgreSQL cluster'),
  pgBinary('pg_dump', ['postgresql-client'], 'dumping the generated production database'),
];

/** The Prometheus Pushgateway binary: $PUSHGATEWAY, else prometheus-pushgateway on PATH. */
export const PUSHGATEWAY: Prerequisite = {
  name: 'prometheus-pushgateway',
  neededFor: 'the metrics push test',
  packages: ['prometheus-pushgateway'],
  locate: (env) =>
    env.PUSHGATEWAY && isExecutable(env.PUSHGATEWAY)
      ? env.PUSHGATEWAY
      : onPath('prometheus-pushgateway', env),
};

/** Headless Chromium: $CHROMIUM, else chromium on PATH. */
export const CHROMIUM: Prerequisite = {
  name: 'chromium',
  neededFor: 'rendering the HTML report in a test',
  packages: ['chromium'],
  locate: (env) => (env.CHROMIUM && isExecutable(env.CHROMIUM) ? env.CHROMIUM : onPath('chromium', env)),
};

/** kubectl renders deploy/k8s (kustomize, offline); Debian ships it as kubernetes-client. */
export const KUBECTL = executable(
  'kubectl',
  ['kubectl', 'kubernetes-client'],
  'rendering deploy/k8s in a test',
);

/** What `npm run demo` (and `npm run bench`) need. */
export function demoPrerequisites(asRoot: boolean): Prerequisite[] {
  return [...RUN_PREREQUISITES, ...POSTGRES_SERVER, ...rootOnly(asRoot)];
}

/** What `npm test` needs. */
export function testPrerequisites(asRoot: boolean): Prerequisite[] {
  return [
    ...demoPrerequisites(asRoot),
    PUSHGATEWAY,
    CHROMIUM,
    KUBECTL,
    executable('git', ['git'], 'the migrations.git tests'),
    // A real migration tool run through `tool: command` (with its PostgreSQL driver).
    executable('alembic', ['alembic'], 'the tool: command release test (a real alembic project)'),
    {
      name: 'python3-psycopg2',
      neededFor: "alembic's PostgreSQL driver in the tool: command release test",
      packages: ['python3-psycopg2'],
      locate: () => (existsSync('/usr/lib/python3/dist-packages/psycopg2') ? 'psycopg2' : undefined),
    },
  ];
}

/** As root the harness runs PostgreSQL as the `postgres` user through runuser (initdb refuses root). */
function rootOnly(asRoot: boolean): Prerequisite[] {
  return asRoot ? [executable('runuser', ['util-linux'], 'running PostgreSQL as the postgres user')] : [];
}

/** The located file of a prerequisite, or an Error naming it and what installs it. */
export function requirePrerequisite(prerequisite: Prerequisite, env: Env = process.env): string {
  const file = prerequisite.locate(env);
  if (file) return file;
  throw new Error(
    `${prerequisite.name} not found (${prerequisite.neededFor}): npm test installs it, or apt-get install ${prerequisite.packages[0]}`,
  );
}

/** True when `version` ("24.1.0") satisfies every comparator of an engines range like ">=20.19 <25". */
export function satisfiesEngines(version: string, range: string): boolean {
  const parts = (text: string) => text.split('.').map(Number);
  const compare = (a: number[], b: number[]) => {
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  return range
    .trim()
    .split(/\s+/)
    .every((comparator) => {
      const match = /^(>=|<=|>|<|=)?(\d+(?:\.\d+){0,2})$/.exec(comparator);
      if (!match) throw new Error(`engines: cannot read "${comparator}"`);
      const order = compare(parts(version), parts(match[2] as string));
      switch (match[1]) {
        case '>=':
          return order >= 0;
        case '>':
          return order > 0;
        case '<=':
          return order <= 0;
        case '<':
          return order < 0;
        default:
          return order === 0;
      }
    });
}
