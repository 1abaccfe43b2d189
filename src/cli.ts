#!/usr/bin/env node
// The CLI: parses flags, calls the product's functions, maps errors to exit codes in one place.
import { Command, CommanderError, Option } from 'commander';
import { reportError } from './cli/exit.js';
import { runDoctor } from './commands/doctor.js';
import { buildPlan } from './commands/plan.js';
import { formatDuration } from './config/duration.js';
import { loadConfig } from './config/load-config.js';
import { ExitCode, UsageError } from './errors.js';
import { createLogger } from './log/logger.js';
import { runRefresh } from './pipeline/run-refresh.js';
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
      if (options.json) process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
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
  .option('--json', 'print the plan as JSON')
  .action(
    wrapHandler(async (options: { config: string; json?: boolean }) => {
      const plan = await buildPlan(await loadConfig(options.config));
      if (options.json) {
        process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
      } else {
        process.stdout.write(
          [
            `target   ${plan.target}`,
            `backup   ${plan.backup.key}`,
            `         ${plan.backup.bytes} bytes, ${plan.backup.age} old, ${plan.backup.format} format, pg_dump ${plan.backup.dumpVersion ?? '?'}`,
            `tables   ${plan.tables.length}: ${plan.tables.join(', ')}`,
            '',
          ].join('\n'),
        );
      }
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
