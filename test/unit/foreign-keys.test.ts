// Foreign keys as pg_dump writes them in post-data, read by the PostgreSQL parser.
import { beforeAll, describe, expect, it } from 'vitest';
import { foreignKeysIn } from '../../src/dump/unique-keys.js';
import { loadParser, parseStatements } from '../../src/sql/parse-sql.js';

describe('foreign keys in a post-data section', () => {
  beforeAll(loadParser);

  it('reads each validated key with its columns and the referenced table in key form, and leaves NOT VALID ones out', () => {
    const keys = foreignKeysIn(
      parseStatements(`
        ALTER TABLE ONLY public.invites
            ADD CONSTRAINT invites_inviter_fkey FOREIGN KEY (inviter_email) REFERENCES public.users(email) ON DELETE CASCADE;
        ALTER TABLE "sales.eu"."Orders"
            ADD CONSTRAINT "Orders_fk" FOREIGN KEY ("Customer Id", region) REFERENCES "sales.eu".customers(id, "Region");
        ALTER TABLE ONLY public.legacy
            ADD CONSTRAINT legacy_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) NOT VALID;
        ALTER TABLE ONLY public.users ADD CONSTRAINT users_pkey PRIMARY KEY (id);
        CREATE INDEX users_email ON public.users USING btree (email);`),
    );
    expect(keys).toEqual([
      {
        table: 'public.invites',
        name: 'invites_inviter_fkey',
        columns: ['inviter_email'],
        references: { table: 'public.users', columns: ['email'] },
      },
      {
        table: '"sales.eu".Orders',
        name: 'Orders_fk',
        columns: ['Customer Id', 'region'],
        references: { table: '"sales.eu".customers', columns: ['id', 'Region'] },
      },
    ]);
  });
});
