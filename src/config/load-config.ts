// Reads the YAML config file, interpolates the environment, validates once and reports every
// problem together, each with the key path it is about.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { registerSecrets } from '../secrets/secret-scrub.js';
import { configSecrets } from './config-secrets.js';
import { type Env, formatPath, interpolateEnv } from './interpolate.js';
import { type Config, configSchema } from './schema.js';

/** Loads and validates a config file; relative paths in it are resolved against its folder. */
export async function loadConfig(file: string, env: Env = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`, [], {
      hint: 'pass an existing file with --config',
      cause: error,
    });
  }
  const config = parseConfig(text, env, dirname(resolve(file)), file);
  registerSecrets(configSecrets(config, env)); // #15: scrubbed from every output from now on
  return config;
}

/** Parses config text; `baseDir` anchors relative paths (workDir, report.dir, migrations.dir, source.local.path). */
export function parseConfig(text: string, env: Env, baseDir: string, label = 'config'): Config {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      `${label} is not valid YAML`,
      document.errors.map((error) => error.message.split('\n')[0] ?? error.message),
    );
  }
  const problems: string[] = [];
  const raw = interpolateEnv(document.toJS(), env, problems);
  const result = configSchema.safeParse(raw);
  if (!result.success) problems.push(...formatIssues(result.error.issues));
  if (problems.length > 0 || !result.success) {
    throw new ConfigError(`${label} has ${problems.length} problem(s)`, problems, {
      hint: 'see config/example.yaml for every key with its meaning',
    });
  }
  return resolvePaths(result.data, baseDir);
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key`);
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      return [`${formatPath(issue.path)}: ${issue.message} (none of the allowed forms matched)`];
    }
    return [`${formatPath(issue.path)}: ${issue.message}`];
  });
}

function resolvePaths(config: Config, baseDir: string): Config {
  const at = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path));
  return {
    ...config,
    workDir: at(config.workDir),
    source: config.source.local
      ? { ...config.source, local: { path: at(config.source.local.path) } }
      : config.source,
    report: { ...config.report, dir: at(config.report.dir) },
    migrations: config.migrations?.dir
      ? { ...config.migrations, dir: at(config.migrations.dir) }
      : config.migrations,
  };
}
