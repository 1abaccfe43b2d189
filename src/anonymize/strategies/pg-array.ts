// PostgreSQL's array text form (what COPY writes for text[], varchar[], inet[], …), read into
// nested lists of strings and nulls and written back, so a rule can mask each element.
// `{a,"b c",NULL,"NULL"}`: quoted elements may hold any character, backslash escapes the next
// one, an unquoted NULL is null. A leading dimension decoration (`[0:1]={…}`) is kept as is.

export type PgArray = (string | null | PgArray)[];

export interface ParsedPgArray {
  /** `[0:1]=` when the array does not start at 1, else ''. */
  bounds: string;
  items: PgArray;
}

/** Reads the text form of an array; throws on anything that is not one. */
export function parsePgArray(text: string): ParsedPgArray {
  let position = 0;
  let bounds = '';
  if (text.startsWith('[')) {
    const equals = text.indexOf('=');
    if (equals === -1) throw new Error('not an array: bounds without "="');
    bounds = text.slice(0, equals + 1);
    position = equals + 1;
  }
  const parseList = (): PgArray => {
    if (text[position] !== '{') throw new Error(`not an array: expected "{" at ${position}`);
    position++;
    const items: PgArray = [];
    if (text[position] === '}') {
      position++;
      return items;
    }
    for (;;) {
      items.push(parseItem());
      const next = text[position++];
      if (next === '}') return items;
      if (next !== ',') throw new Error(`not an array: expected "," or "}" at ${position - 1}`);
    }
  };
  const parseItem = (): string | null | PgArray => {
    if (text[position] === '{') return parseList();
    if (text[position] === '"') {
      position++;
      let value = '';
      for (;;) {
        const char = text[position++];
        if (char === undefined) throw new Error('not an array: unterminated quoted element');
        if (char === '"') return value;
        value += char === '\\' ? (text[position++] ?? '') : char;
      }
    }
    let value = '';
    while (position < text.length && text[position] !== ',' && text[position] !== '}') {
      const char = text[position++] as string;
      value += char === '\\' ? (text[position++] ?? '') : char;
    }
    const trimmed = value.trim();
    return trimmed.toUpperCase() === 'NULL' ? null : trimmed;
  };
  const items = parseList();
  if (position !== text.length) throw new Error('not an array: text after the closing "}"');
  return { bounds, items };
}

/** Writes an array back in the form PostgreSQL reads (every non-null element quoted when needed). */
export function formatPgArray({ bounds, items }: ParsedPgArray): string {
  return bounds + formatList(items);
}

function formatList(items: PgArray): string {
  return `{${items.map((item) => (Array.isArray(item) ? formatList(item) : formatItem(item))).join(',')}}`;
}

function formatItem(item: string | null): string {
  if (item === null) return 'NULL';
  if (item === '' || /^null$/i.test(item) || /[{},"\\\s]/.test(item))
    return `"${item.replace(/["\\]/g, (char) => `\\${char}`)}"`;
  return item;
}

/** Every element, depth first, for checks that look at values (PII by content). */
export function arrayLeaves(items: PgArray): string[] {
  return items.flatMap((item) => (Array.isArray(item) ? arrayLeaves(item) : item === null ? [] : [item]));
}
