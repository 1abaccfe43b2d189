import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { type ColumnRule, parseRule } from '../../src/anonymize/strategies/registry.js';
import { compileTableTransform } from '../../src/anonymize/table-transform.js';
import { warmMasking } from '../../src/anonymize/warm-masking.js';

// A thread's tables share one PRF (KeyedPrf.of), and a run warms that PRF and the masking code on
// made-up rows while the backup downloads: neither may change a masked byte.

afterEach(() => {
  vi.unstubAllEnvs();
});

const SECRET = 'warm-secret';
const USERS: Record<string, ColumnRule> = {
  email: parseRule('email'),
  full_name: parseRule({ fake: 'person.fullName' }),
  iban: parseRule('hash'),
  birth_date: parseRule({ shift: '30d' }),
};
const PAYMENTS: Record<string, ColumnRule> = {
  card: parseRule({ mask: { keepLast: 4 } }),
  iban: parseRule({ hash: { length: 12 } }),
};

/** Blocks of COPY lines of a users-like table (case variants of one mailbox among them). */
function usersBlocks(blocks: number, rows: number): Buffer[] {
  return Array.from({ length: blocks }, (_, block) => {
    const lines: string[] = [];
    for (let row = block * rows; row < (block + 1) * rows; row++) {
      const mail = row % 50 === 7 ? `USER${row - 1}@Corp.Example` : `user${row}@corp.example`;
      lines.push(
        `${row}\t${mail}\tName ${row % 97}\tDE${row}\t19${50 + (row % 49)}-0${1 + (row % 9)}-1${row % 10}\n`,
      );
    }
    return Buffer.from(lines.join(''));
  });
}

function paymentsBlocks(blocks: number, rows: number): Buffer[] {
  return Array.from({ length: blocks }, (_, block) => {
    const lines: string[] = [];
    for (let row = block * rows; row < (block + 1) * rows; row++)
      lines.push(`${row}\t4111 1111 1111 ${String(row % 10_000).padStart(4, '0')}\tGB${row % 89}X${row}\n`);
    return Buffer.from(lines.join(''));
  });
}

const users = (prf: KeyedPrf) =>
  compileTableTransform(
    'public.users',
    ['id', 'email', 'full_name', 'iban', 'birth_date'],
    USERS,
    new Map(),
    prf,
    'x.invalid',
    new Set(['email']),
  );
const payments = (prf: KeyedPrf) =>
  compileTableTransform('public.payments', ['id', 'card', 'iban'], PAYMENTS, new Map(), prf, 'x.invalid');

describe('KeyedPrf.of', () => {
  it('is one PRF per secret in a thread, and a new one when the secret or the SipHash kind changes', () => {
    const first = KeyedPrf.of(SECRET);
    expect(KeyedPrf.of(SECRET)).toBe(first);
    const other = KeyedPrf.of('another');
    expect(other).not.toBe(first);
    expect(KeyedPrf.of(SECRET)).not.toBe(other);
    const wasm = KeyedPrf.of(SECRET);
    vi.stubEnv('STAGING_REFRESH_PRF', 'js');
    const js = KeyedPrf.of(SECRET);
    expect(js).not.toBe(wasm);
    // Either kind gives the same bits.
    expect(js.token('a@b.c')).toBe(wasm.token('a@b.c'));
  });

  it('lets go of a PRF that grew for a huge value instead of keeping its memory for the run', () => {
    const prf = KeyedPrf.of(SECRET);
    expect(KeyedPrf.of(SECRET)).toBe(prf);
    prf.token('x'.repeat(6 * 2 ** 20));
    expect(prf.heldBytes()).toBeGreaterThan(16 * 2 ** 20);
    expect(KeyedPrf.of(SECRET)).not.toBe(prf);
  });

  it('masks two tables interleaved, block by block, while the warm-up runs, as each on a PRF of its own', async () => {
    const userBlocks = usersBlocks(6, 3_000);
    const paymentBlocks = paymentsBlocks(6, 3_000);
    const alone = (transform: ReturnType<typeof users>, blocks: Buffer[]) =>
      Buffer.concat(blocks.map((block) => transform.bytes(block, 0, block.length).out));
    const expectedUsers = alone(users(new KeyedPrf(SECRET)), userBlocks);
    const expectedPayments = alone(payments(new KeyedPrf(SECRET)), paymentBlocks);

    const shared = KeyedPrf.of(SECRET);
    const sharedUsers = users(shared);
    const sharedPayments = payments(shared);
    const warming = warmMasking(
      { tables: { 'public.users': USERS, 'public.payments': PAYMENTS }, domain: 'x.invalid', secret: SECRET },
      new AbortController().signal,
    );
    const gotUsers: Buffer[] = [];
    const gotPayments: Buffer[] = [];
    for (let block = 0; block < userBlocks.length; block++) {
      const user = userBlocks[block] as Buffer;
      const payment = paymentBlocks[block] as Buffer;
      gotUsers.push(sharedUsers.bytes(user, 0, user.length).out);
      // The warm-up's slices run between blocks, on the same PRF.
      await new Promise((resolve) => setImmediate(resolve));
      gotPayments.push(sharedPayments.bytes(payment, 0, payment.length).out);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await warming).toBeGreaterThan(0);
    expect(Buffer.concat(gotUsers).equals(expectedUsers)).toBe(true);
    expect(Buffer.concat(gotPayments).equals(expectedPayments)).toBe(true);
    // The case variants were re-keyed: every address distinct (claims are the table's own).
    const emails = Buffer.concat(gotUsers)
      .toString()
      .trimEnd()
      .split('\n')
      .map((line) => line.split('\t')[1]);
    expect(new Set(emails).size).toBe(6 * 3_000);
  });
});

describe('warmMasking', () => {
  const signal = () => new AbortController().signal;

  it('masks 6,000 made-up rows four times per rule set, truncated tables and rules it cannot make values for left out', async () => {
    const rows = await warmMasking(
      {
        tables: {
          'public.users': USERS,
          'public.payments': PAYMENTS,
          'public.sessions': 'truncate',
          // A template reads other columns of the row, and JSON needs its own paths: not warmed.
          'public.notes': { body: parseRule({ template: 'note {id}' }) },
        },
        domain: 'x.invalid',
        secret: SECRET,
      },
      signal(),
    );
    expect(rows).toBe(2 * 4 * 6_000);
  });

  it('warms columns with quoted, dotted and odd names, and one named like a column it adds', async () => {
    const rows = await warmMasking(
      {
        tables: {
          '"Sales.EU"."Order ""Lines"""': {
            // Named like the unruled text column the made-up rows carry: shift there would refuse it.
            note: parseRule({ shift: '30d' }),
            'Contact.E-mail': parseRule('email'),
            'say "hi", then) FROM stdin;': parseRule({ fake: 'person.fullName' }),
            Straße: parseRule({ mask: { keepLast: 2 } }),
          },
        },
        domain: 'x.invalid',
      },
      signal(),
    );
    // Refused (a header the COPY reader could not parse, or two columns named note) would be 0.
    expect(rows).toBe(4 * 6_000);
  });

  it('leaves a rule set cold when its rules refuse the made-up values, and still resolves', async () => {
    const rows = await warmMasking(
      {
        tables: {
          // No such faker kind: compiling the transform throws.
          'public.a': { name: parseRule({ fake: 'person.noSuchKind' }) },
          'public.b': PAYMENTS,
        },
        domain: 'x.invalid',
      },
      signal(),
    );
    expect(rows).toBe(4 * 6_000);
  });

  it('stops when the restore begins', async () => {
    const stopped = new AbortController();
    stopped.abort();
    expect(
      await warmMasking({ tables: { 'public.users': USERS }, domain: 'x.invalid' }, stopped.signal),
    ).toBe(0);
    const midway = new AbortController();
    const warming = warmMasking({ tables: { 'public.users': USERS }, domain: 'x.invalid' }, midway.signal);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    midway.abort();
    const rows = await warming;
    expect(rows).toBeGreaterThan(0);
    // Within the first transform's rows: the stop is heard between slices, not only between tables.
    expect(rows).toBeLessThan(6_000);
  });

  it('never rejects, even when the rules cannot be read', async () => {
    const hostile = {
      get tables(): never {
        throw new Error('not readable');
      },
      domain: 'x.invalid',
    };
    await expect(warmMasking(hostile, signal())).resolves.toBe(0);
  });
});
