// PostgreSQL's COPY text format, exactly: fields split by tab, `\N` is NULL, backslash escapes
// (\\ \t \n \r \b \f \v, octal \NNN, hex \xHH) decode to bytes of the database encoding (UTF-8).

/** Decodes one field; null for `\N`. */
export function decodeField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  const bytes: number[] = [];
  const push = (text: string) => {
    for (const byte of Buffer.from(text, 'utf8')) bytes.push(byte);
  };
  for (let index = 0; index < field.length; index++) {
    const char = field[index] as string;
    if (char !== '\\' || index === field.length - 1) {
      const code = field.codePointAt(index) as number;
      const whole = String.fromCodePoint(code);
      push(whole);
      index += whole.length - 1;
      continue;
    }
    const next = field[++index] as string;
    switch (next) {
      case 'b':
        bytes.push(8);
        break;
      case 'f':
        bytes.push(12);
        break;
      case 'n':
        bytes.push(10);
        break;
      case 'r':
        bytes.push(13);
        break;
      case 't':
        bytes.push(9);
        break;
      case 'v':
        bytes.push(11);
        break;
      case 'x': {
        const hex = /^[0-9a-fA-F]{1,2}/.exec(field.slice(index + 1))?.[0];
        if (hex) {
          bytes.push(Number.parseInt(hex, 16));
          index += hex.length;
        } else push('x');
        break;
      }
      default:
        if (next >= '0' && next <= '7') {
          const octal = /^[0-7]{1,3}/.exec(field.slice(index))?.[0] as string;
          bytes.push(Number.parseInt(octal, 8) & 0xff);
          index += octal.length - 1;
        } else {
          push(next);
        }
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Encodes one value for COPY text; null becomes `\N`. */
export function encodeField(value: string | null): string {
  if (value === null) return '\\N';
  // A loop over the code units: cheaper than a RegExp test on the short values masking makes.
  let plain = true;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code === 0x5c || (code >= 0x08 && code <= 0x0d)) {
      plain = false;
      break;
    }
  }
  if (plain) return value;
  return value.replace(/[\\\t\n\r\b\f\v]/g, (char) => ESCAPES[char] as string);
}

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\b': '\\b',
  '\f': '\\f',
  '\v': '\\v',
};

/** A COPY header line `COPY schema.table (a, b) FROM stdin;` → its table and column names. */
export function parseCopyHeader(line: string): { table: string; columns: string[] } | undefined {
  const match = /^COPY (.+?) \((.*)\) FROM stdin;$/.exec(line);
  if (!match) return undefined;
  return { table: match[1] as string, columns: splitIdentifiers(match[2] as string) };
}

/** Splits `a, "B c", "d""e"` into unquoted names. */
function splitIdentifiers(list: string): string[] {
  const names: string[] = [];
  const pattern = /\s*(?:"((?:[^"]|"")*)"|([^,\s]+))\s*(?:,|$)/g;
  let match = pattern.exec(list);
  while (match && match[0] !== '') {
    names.push(match[1] !== undefined ? match[1].replace(/""/g, '"') : (match[2] as string));
    match = pattern.exec(list);
  }
  return names;
}
