// The configured passwords and keys, and what to do when one turns up in text the tool writes:
// a migrator that prints its DATABASE_URL, a server error that quotes a connection string. Every
// record, report, e-mail, history row and log line passes through scrub before it leaves. Error
// details that quote row values (`Key (email)=(…)`, `Failing row contains (…)`) lose the values.

/** Shorter values are not treated as secrets: replacing them would mangle ordinary text. */
export const MIN_SECRET_LENGTH = 6;
const REPLACEMENT = '[redacted]';
const registered = new Set<string>();

/** Adds secrets to the set every scrub removes (process-wide: logs are process-wide too). */
export function registerSecrets(values: readonly string[]): void {
  for (const value of values) {
    if (value.length < MIN_SECRET_LENGTH) continue;
    registered.add(value);
    registered.add(encodeURIComponent(value));
    registered.add(JSON.stringify(value).slice(1, -1));
  }
}

/** `text` without any registered secret and without row values quoted by error details. */
export function scrub(text: string): string {
  let out = text;
  for (const secret of registered) if (out.includes(secret)) out = out.split(secret).join(REPLACEMENT);
  return out
    .replace(
      /(Key \([^)]*\)=\()(.*?)(\) (?:already exists|is not present|is still referenced|conflicts))/g,
      '$1…$3',
    )
    .replace(/(Failing row contains \()(.*)(\))/g, '$1…$3');
}

/** Scrubs every string inside `value` in place (records are plain JSON data). */
export function scrubDeep<T>(value: T): T {
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) value[index] = scrubDeep(value[index]);
    return value;
  }
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) object[key] = scrubDeep(object[key]);
    return value;
  }
  return (typeof value === 'string' ? scrub(value) : value) as T;
}
