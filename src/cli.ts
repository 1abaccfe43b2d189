#!/usr/bin/env node
// The CLI: parses flags, calls the product's functions, maps errors to exit codes in one place.
import { writeFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { reportError } from './cli/exit.js';
import { calibrate } from './commands/calibrate.js';
import { runDoctor } from './commands/doctor.js';
import { formatRuns, listRuns } from './commands/history.js';
import { failsAt, formatFindings, lintDirectory } from './commands/lint.js';
import { buildPlan, formatPlan } from './commands/plan.js';
import { starterRules } from './commands/plan-anonymization.js';
import { loadRecord, type ReportFormat, renderRecord, resendRecord } from './commands/report.js';
import { rollback } from './commands/rollback.js';
import { serve } from './commands/serve.js';
import { loadConfig } from './config/load-config.js';
import type { MigrationsConfig } from './config/schema.js';
import { ExitCode, UsageError } from './errors.js';
import { formatDuration } from './format/duration.js';
import { createLogger } from './log/logger.js';
import { runRefresh } from './pipeline/run-refresh.js';
import { MIGRATION_TOOL_NAMES } from './stages/migrate/tools/registry.js';
import { renderText } from './stages/report/render-text.js';
import { TOOL_VERSION } from './version.js';

const CONFIG_FLAG = '-c, --config <file>';
const CONFIG_HELP = 'the YAML config file';
const DEFAULT_CONFIG = process.env.STAGING_REFRESH_CONFIG ?? 'staging-refresh.yaml';

/** Exits the process once stdout/stderr are flushed. */
function exit(code: number): never {
  process.exitCode = code;
  process.exit(code);
}

/** Runs a command body; any error becomes a printed message and its exit code. */
function wrapHandler<A extends unknown[]>(
  body: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code: number;
    try {
      code = await body(...args);
    } catch (error) {
      code = reportError(error);
    }
    exit(code);
  };
}

/** Aborts the run on SIGTERM/SIGINT; a second signal, or 10 s without finishing, exits at once. */
function abortOnSignals(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) exit(ExitCode.terminated);
    process.stderr.write(`staging-refresh: ${name} received, stopping the run and cleaning up\n`);
    controller.abort(new Error(name));
    setTimeout(() => exit(ExitCode.terminated), 10_000).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return controller.signal;
}

const program = new Command()
  .name('staging-refresh')
  .description(
    'Production-sized, anonymized staging PostgreSQL, with the real cost of every pending migration.',
  )
  .version(TOOL_VERSION)
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Examples:
  staging-refresh doctor -c config.yaml        check the machine before the first run
  staging-refresh plan -c config.yaml          which backup a run would use, without changing anything
  staging-refresh run -c config.yaml           refresh staging now and print the report
  staging-refresh lint db/migrations           the static lock lint, for the application's CI

Exit codes: 0 ok, 1 run failed, 64 usage, 65 bad backup, 69 unreachable, 74 local I/O,
75 another run holds the lock, 77 refused by the guard, 78 bad config, 143 SIGTERM.
The config: config/example.yaml; the environment: PGPASSWORD, AWS_*, ANONYMIZE_SECRET, LOG_LEVEL.`,
  )
  .exitOverride();

program
  .command('run')
  .description('refresh staging now: locate, restore, migrate, verify, swap, report')
  .option(CONFIG_FLAG, CONFIG_HELP, DEFAULT_CONFIG)
  .option('--json', 'print the run record as JSON on stdout')
  .addHelpText(
    'after',
    '\nExamples:\n  staging-refresh run --config /etc/staging-refresh.yaml\n  staging-refresh run -c config.yaml --json | jq .outcome',
  )
  .action(
    wrapHandler(async (options: { config: string; json?: boolean }) => {
      const config = await loadConfig(options.config);
      const log = createLogger();
      const record = await runRefresh(config, { log, signal: abortOnSignals() });
      process.stdout.write(options.json ? `${JSON.stringify(record, null, 2)}\n` : renderText(record));
      if (record.error) {
        process.stderr.write(`staging-refresh: ${record.outcome}: ${record.error.message}\n`);
        if (record.error.hint) process.stderr.write(`  what to do: ${record.error.hint}\n`);
      } else {
        process.stderr.write(`staging-refresh: ${record.outcome} in ${formatDuration(record.durationMs)}\n`);
      }
      return record.exitCode;
    }),
  );

program
  .command('doctor')
  .description('check tools, connectivity, permissions and disk before the first run')
  .option(CONFIG_FLAG, CONFIG_HELP, DEFAULT_CONFIG)
  .addHelpText('after', '\nExamples:\n  staging-refresh doctor -c /etc/staging-refresh/config.yaml')
  .action(
    wrapHandler(async (options: { config: string }) => {
      const checks = await runDoctor(await loadConfig(options.config));
      for (const check of checks)
        process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name.padEnd(20)} ${check.detail}\n`);
      return checks.find((check) => !check.ok)?.failCode ?? ExitCode.ok;
    }),
  );

program
  .command('plan')
  .description('show what a run would do now, without changing anything')
  .option(CONFIG_FLAG, CONFIG_HELP, DEFAULT_CONFIG)
  .addHelpText(
    'after',
    '\nExamples:\n  staging-refresh plan -c config.yaml\n  staging-refresh plan -c config.yaml --json | jq .backup\n  staging-refresh plan -c config.yaml --write-rules anonymize.yaml',
  )
  .option('--json', 'print the plan as JSON')
  .option(
    '--write-rules <file>',
    'write a starter anonymization rules file from the PII found (never overwrites)',
  )
  .action(
    wrapHandler(async (options: { config: string; json?: boolean; writeRules?: string }) => {
      const config = await loadConfig(options.config);
      const plan = await buildPlan(config, new Date(), { unpack: options.writeRules !== undefined });
      process.stdout.write(options.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
      if (options.writeRules) {
        if (
          !plan.anonymization ||
          plan.anonymization.note?.match(/^(the backup has to be unpacked|not downloaded yet)/)
        )
          throw new UsageError(
            `--write-rules needs a backup whose schema plan can read: ${plan.anonymization?.note ?? 'none'}`,
          );
        await writeFile(
          options.writeRules,
          starterRules(config, plan.anonymization, plan.backup.key, new Date()),
          { flag: 'wx' },
        ).catch((error: NodeJS.ErrnoException) => {
          throw error.code === 'EEXIST'
            ? new UsageError(`${options.writeRules} exists: remove it or name another file`)
            : error;
        });
        process.stderr.write(`wrote starter rules to ${options.writeRules}: review them before use\n`);
      }
      return ExitCode.ok;
    }),
  );

program
  .command('lint')
  .description('check migrations statically for locking hazards (for the application CI; no database needed)')
  .argument('<dir>', 'the migrations directory')
  .addOption(
    new Option('--tool <tool>', 'migration tool whose layout and transactions to assume')
      .choices(MIGRATION_TOOL_NAMES)
      .default('sql'),
  )
  .option('--fail-on <severity>', 'exit 1 on findings at or above: error, warning, never', 'error')
  .option('--json', 'print findings as JSON')
  .addHelpText(
    'after',
    '\nExamples:\n  staging-refresh lint db/migrations\n  staging-refresh lint --tool flyway --fail-on warning src/main/resources/db/migration',
  )
  .action(
    wrapHandler(async (dir: string, options: { tool: string; failOn: string; json?: boolean }) => {
      if (!['error', 'warning', 'never'].includes(options.failOn))
        throw new UsageError('--fail-on must be error, warning or never');
      const failOn = options.failOn as 'error' | 'warning' | 'never';
      const results = await lintDirectory(dir, {
        tool: options.tool as MigrationsConfig['tool'],
        lint: { failOn, disable: [] },
      });
      process.stdout.write(options.json ? `${JSON.stringify(results, null, 2)}\n` : formatFindings(results));
      return results.some((result) => result.findings.some((finding) => failsAt(finding, failOn)))
        ? ExitCode.runFailed
        : ExitCode.ok;
    }),
  );

program
  .command('report')
  .description('re-render or re-send a stored run record')
  .option(CONFIG_FLAG, CONFIG_HELP, DEFAULT_CONFIG)
  .option('--run <id>', 'the run id (default: the latest run)')
  .option('--last', 'the latest run (the default)')
  .option('--format <format>', 'text, markdown, html or json', 'text')
  .option('--send', 'send the report e-mail again')
  .addHelpText(
    'after',
    '\nExamples:\n  staging-refresh report --last --format markdown\n  staging-refresh report --run 20261123T030000Z-a1b2 --send',
  )
  .action(
    wrapHandler(async (options: { config: string; run?: string; format: string; send?: boolean }) => {
      if (!['text', 'markdown', 'html', 'json'].includes(options.format))
        throw new UsageError('--format must be text, markdown, html or json');
      const config = await loadConfig(options.config);
      const record = await loadRecord(config, options.run);
      if (options.send) process.stderr.write(`${await resendRecord(config, record)}\n`);
      else process.stdout.write(renderRecord(record, options.format as ReportFormat));
      return ExitCode.ok;
    }),
  );

program
  .command('rollback')
  .description('put the previous staging database (<db>__prev) back; run it again to undo')
  .option(CONFIG_FLAG, CONFIG_HELP, DEFAULT_CONFIG)
  .action(
    wrapHandler(async (options: { config: string }) => {
      process.stdout.write(`${await rollback(await loadConfig(options.config), createLogger())}\n`);
      return ExitCode.ok;
    }),
  );

program
  .command('serve')
  .description('run refreshes on schedule.cron, with an HTTP trigger, health, latest record and metrics')
  .option(CONFIG_FLAG, CONFIG_HELP, DEFAULT_CONFIG)
  .addHelpText(
    'after',
    '\nExamples:\n  STAGING_REFRESH_TOKEN=… staging-refresh serve -c config.yaml\n  curl -X POST -H "Authorization: Bearer $STAGING_REFRESH_TOKEN" localhost:8080/runs',
  )
  .action(
    wrapHandler(async (options: { config: string }) => {
      const log = createLogger();
      const server = await serve(await loadConfig(options.config), {
        log,
        token: process.env.STAGING_REFRESH_TOKEN,
      });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      // #15: a refresh aborted by the shutdown makes serve exit 143, as `run` would.
      const waited = await server.shutdown();
      return waited?.outcome === 'aborted' ? ExitCode.terminated : ExitCode.ok;
    }),
  );

program
  .command('history')
  .description('list the stored runs with their durations (control database, else report.dir)')
  .option(CONFIG_FLAG, CONFIG_HELP, DEFAULT_CONFIG)
  .option('-n, --limit <n>', 'how many runs', '20')
  .option('--json', 'print the run records as JSON')
  .action(
    wrapHandler(async (options: { config: string; limit: string; json?: boolean }) => {
      const runs = await listRuns(await loadConfig(options.config), Math.max(1, Number(options.limit) || 20));
      process.stdout.write(options.json ? `${JSON.stringify(runs, null, 2)}\n` : formatRuns(runs));
      return ExitCode.ok;
    }),
  );

program
  .command('calibrate')
  .description("feed back a migration's production duration: later estimates scale staging timings by it")
  .option(CONFIG_FLAG, CONFIG_HELP, DEFAULT_CONFIG)
  .requiredOption('--migration <name>', 'the migration, as the report names it')
  .requiredOption('--took <duration>', 'how long it took in production, e.g. 4h or 35m')
  .addHelpText(
    'after',
    '\nExamples:\n  staging-refresh calibrate -c config.yaml --migration 20261120_orders_reference_index --took 4h',
  )
  .action(
    wrapHandler(async (options: { config: string; migration: string; took: string }) => {
      const message = await calibrate(await loadConfig(options.config), options.migration, options.took);
      process.stdout.write(`${message}\n`);
      return ExitCode.ok;
    }),
  );

program.addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').hideHelp());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    exit(error.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
  }
  exit(reportError(error instanceof Error ? error : new UsageError(String(error))));
}
