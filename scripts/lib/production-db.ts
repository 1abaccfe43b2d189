// A production-like database for the demo and the benchmark: users, orders, payments and
// sessions with realistic-looking PII, generated in SQL (fast), plus the migrations the
// "production" already ran.

/**
 * Schema + data for `rows` orders (users = rows/4, payments = rows/2, sessions = rows/5). Skewed,
 * as many production databases are: the other tables hold rows/40 each, so the masked `orders`
 * holds ~93 % of the rows.
 */
export function productionSql(rows: number, options: { skewed?: boolean } = {}): string {
  const share = (divisor: number) => Math.floor(rows / (options.skewed ? 40 : divisor));
  const users = Math.max(100, share(4));
  return `
CREATE TABLE users (
  id bigint PRIMARY KEY,
  email text NOT NULL UNIQUE,
  full_name text NOT NULL,
  phone text,
  birth_date date,
  country text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  user_id bigint NOT NULL,
  reference text NOT NULL,
  status text NOT NULL,
  total numeric(12,2) NOT NULL,
  shipping_address text,
  created_at timestamptz NOT NULL
);
CREATE TABLE payments (
  id bigint PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id),
  card_number text,
  iban text,
  amount numeric(12,2) NOT NULL,
  paid_at timestamptz NOT NULL
);
CREATE TABLE sessions (
  id bigint PRIMARY KEY,
  user_id bigint NOT NULL,
  token text NOT NULL,
  ip_address inet,
  last_seen timestamptz NOT NULL
);
CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
INSERT INTO schema_migrations (version) VALUES ('20261101_init'), ('20261105_orders_status');

SELECT setseed(0.42);
-- Values repeat the way real ones do: e-mail addresses and order references never, birth dates
-- over ~55 years of days, names drawn with a skew (common first names and surnames far more often
-- than rare ones) with a middle initial: half of 500k users share a full name), and a customer's address, card and IBAN on each
-- of their orders and payments — repeated, but far apart in the table.
INSERT INTO users
SELECT g,
       'user' || g || '@' || (ARRAY['gmail.com','outlook.com','corp.example','yahoo.com'])[1 + g % 4],
       (ARRAY['Anna','Bram','Chloé','Daan','Emma','Finn','Giulia','Hugo','Ines','Jan','Katarzyna','Lars',
              'Marta','Noah','Olga','Pieter','Quinten','Rosa','Sanne','Tomasz','Ugo','Vera','Willem',
              'Xenia','Yara','Zoë','Ahmed','Fatima','Mohammed','Sofia'])[1 + floor(30 * random() ^ 2)::int] || ' ' ||
       chr(65 + floor(26 * random())::int) || '. ' ||
       (ARRAY['de ','van ','','','','','',''])[1 + floor(8 * random())::int] ||
       (ARRAY['Jan','Bak','Mul','Ros','Smi','Ngu','Gar','Kow','Vis','Dek','Bos','Mey','Hen','Peter','Brou','Wil',
              'Lam'])[1 + floor(17 * random() ^ 1.5)::int] ||
       (ARRAY['sen','ker','ler','si','th','yen','cía','alski','ser','kers','ma','er','dricks','s','wer','lems',
              'bert'])[1 + floor(17 * random() ^ 1.5)::int],
       '+31 6 ' || lpad((g::bigint * 7919 % 100000000)::text, 8, '0'),
       date '1950-01-01' + (g::bigint * 37 % 20000)::int,
       (ARRAY['NL','DE','FR','IT','ES','PL'])[1 + g % 6],
       now() - (g % 1000) * interval '1 day'
  FROM generate_series(1, ${users}) g;
INSERT INTO orders
SELECT g, 1 + g % ${users}, md5(g::text), (ARRAY['new','paid','shipped','delivered'])[1 + g % 4],
       (g % 99991) / 100.0,
       'Apt ' || (1 + g % ${users}) / 1000 || ', ' || (1 + (1 + g % ${users}) % 997) || ' ' ||
       (ARRAY['Keizersgracht','Herengracht','Hauptstraße','Rue de Rivoli','Via Roma','Calle Mayor'])[1 + g % ${users} % 6] ||
       ', ' || (ARRAY['Amsterdam','Utrecht','Berlin','Paris','Roma','Madrid','Kraków'])[1 + g % ${users} % 7],
       now() - g * interval '30 seconds'
  FROM generate_series(1, ${rows}) g;
INSERT INTO payments
SELECT g, g * 2 - 1, '4111 1111 ' || lpad(((g * 2 - 1) % ${users} % 100000000)::text, 8, '0'),
       'NL' || lpad(((g * 2 - 1) % ${users} % 100)::text, 2, '0') || 'ABNA' || lpad(((g * 2 - 1) % ${users})::text, 10, '0'),
       (g % 99991) / 100.0, now() - g * interval '60 seconds'
  FROM generate_series(1, ${share(2)}) g;
INSERT INTO sessions
SELECT g, 1 + g % ${users}, md5('token' || g), ('10.' || (g % 250) || '.' || (g / 250 % 250) || '.7')::inet, now()
  FROM generate_series(1, ${share(5)}) g;
`;
}

/** The migrations directory: two already applied in the dump, four pending, each with a down. */
export const DEMO_MIGRATIONS: Record<string, string> = {
  '20261101_init.sql': '-- applied in production already (the dump contains it)\nSELECT 1;\n',
  '20261105_orders_status.sql': '-- applied in production already\nSELECT 1;\n',
  '20261120_orders_reference_index.sql':
    "-- The migration that started it all: a plain CREATE INDEX on the big table.\nSET lock_timeout = '5s';\nCREATE INDEX orders_reference_idx ON orders (reference);\n",
  '20261120_orders_reference_index.down.sql': 'DROP INDEX orders_reference_idx;\n',
  '20261121_orders_user_index_concurrently.sql':
    '-- The same kind of index, built the safe way.\nCREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id);\n',
  '20261121_orders_user_index_concurrently.down.sql': 'DROP INDEX CONCURRENTLY orders_user_id_idx;\n',
  '20261122_orders_seen_at.sql':
    "-- A volatile default rewrites the whole table under ACCESS EXCLUSIVE.\nSET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();\n",
  '20261122_orders_seen_at.down.sql': 'ALTER TABLE orders DROP COLUMN seen_at;\n',
  '20261123_orders_user_fk.sql':
    "-- A foreign key without NOT VALID checks every row while blocking writes on both tables.\nSET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);\n",
  '20261123_orders_user_fk.down.sql': 'ALTER TABLE orders DROP CONSTRAINT orders_user_fk;\n',
};

/** The anonymization rules for the tables productionSql creates (the demo's and the bench's). */
export function productionRules(secret: string) {
  return {
    secret,
    unknownPii: 'fail',
    keep: ['public.users.country'],
    tables: {
      'public.users': {
        email: 'email',
        full_name: { fake: 'person.fullName' },
        phone: { mask: { keepLast: 2 } },
        birth_date: { shift: '30d' },
      },
      'public.orders': { shipping_address: { fake: 'location.streetAddress' } },
      'public.payments': { card_number: { mask: { keepLast: 4 } }, iban: 'hash' },
      'public.sessions': 'truncate',
    },
  };
}
