// The secrets a config holds: what every scrub (secrets/secret-scrub.ts) removes from the tool's output.
import { MIN_SECRET_LENGTH } from '../secrets/secret-scrub.js';
import type { Config } from './schema.js';

/** The secrets a config holds, plus the ones in the environment that tools are given. */
export function configSecrets(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): string[] {
  const values = [
    passwordOf(config.target.url),
    config.control && passwordOf(config.control.url),
    config.report.email?.password,
    config.anonymize.secret,
    env.PGPASSWORD,
    env.AWS_SECRET_ACCESS_KEY,
    env.AWS_SESSION_TOKEN,
    env.STAGING_REFRESH_TOKEN,
  ];
  return values.filter(
    (value): value is string => typeof value === 'string' && value.length >= MIN_SECRET_LENGTH,
  );
}

function passwordOf(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}
