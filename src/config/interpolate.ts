// `${VAR}` in config values: read from the environment, or from the file named by VAR_FILE
// (Kubernetes secret mounts). Interpolation runs on parsed string values, so a secret with
// YAML-special characters cannot change the document's structure.
import { readFileSync } from 'node:fs';

export type Env = Readonly<Record<string, string | undefined>>;

/** Replaces `${VAR}` in every string of a parsed YAML tree; collects what is missing. */
export function interpolateEnv(
  value: unknown,
  env: Env,
  problems: string[],
  path: readonly (string | number)[] = [],
): unknown {
  if (typeof value === 'string') return interpolateString(value, env, problems, path);
  if (Array.isArray(value))
    return value.map((item, index) => interpolateEnv(item, env, problems, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, env, problems, [...path, key])]),
    );
  }
  return value;
}

function interpolateString(
  text: string,
  env: Env,
  problems: string[],
  path: readonly (string | number)[],
): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (_whole, name: string, fallback?: string) => {
      const direct = env[name];
      if (direct !== undefined) return direct;
      const file = env[`${name}_FILE`];
      if (file !== undefined) {
        try {
          return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        } catch (error) {
          problems.push(
            `${formatPath(path)}: cannot read ${name}_FILE (${file}): ${(error as Error).message}`,
          );
          return '';
        }
      }
      if (fallback !== undefined) return fallback;
      problems.push(`${formatPath(path)}: environment variable ${name} is not set (nor ${name}_FILE)`);
      return '';
    },
  );
}

/** `target.allow[0]` style key paths for messages. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`,
    )
    .join('');
}
