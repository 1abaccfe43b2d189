// What the tests and the demo need beyond Node, and where the harness finds each one. The test
// harness and scripts/lib/browser.ts look things up through these, so "present" here means
// "the tests will find it".
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
