// A masked table streamed on a pool worker (the path a tool with masking cores to spare takes:
// on this test machine's two cores beside a local server, a restore masks in its own thread and
// starts no worker): the same rows as the calling thread writes, masked, and a stop that reaches
// the worker.

import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/errors.js';
import { type StreamTableInput, streamTable } from '../../src/stages/restore/stream-table.js';
import { StreamWorkerPool } from '../../src/stages/restore/stream-worker-pool.js';
import { cluster, makeDump, preDataTarget, sql, tempDir } from '../harness/pg-test-env.js';

const PRODUCTION = `
  CREATE SCHEMA "Sales.EU";
  CREATE TABLE "Sales.EU"."Cust ""omers""" (id int PRIMARY KEY, email text UNIQUE, name text, note text);
  INSERT INTO "Sales.EU"."Cust ""omers"""
    SELECT g, 'Person' || g || '@Real-Mail.example', 'Realname ' || (g % 97), 'tab' || chr(9) || 'ü ' || g
    FROM generate_series(1, 30000) g;`;

const RULES = { email: { email: {} }, name: { fake: 'person.fullName' } };

describe('a masked table on a stream worker', () => {
  let dump: string;
  beforeAll(async () => {
    cluster();
    dump = await makeDump(join(await tempDir('stream-worker'), 'prod.dump'), PRODUCTION);
  });

  /** A database with the dump's pre-data, and the stream input for the table into it. */
  const target = async (label: string): Promise<StreamTableInput> => {
    return {
      archive: dump,
      target: await preDataTarget(dump, label),
      schema: 'Sales.EU',
      table: 'Cust "omers"',
      hasData: true,
      rules: RULES,
      types: new Map([
        ['email', 'text'],
        ['name', 'text'],
      ]),
      secret: 'worker-secret',
      domain: 'example.invalid',
      unique: ['email'],
      signal: new AbortController().signal,
    };
  };
  /** `body` with a pool whose one worker is started and ready, ended afterwards. */
  const withReadyWorker = async (body: (pool: StreamWorkerPool) => Promise<void>) => {
    const pool = new StreamWorkerPool(2);
    try {
      pool.warm(1);
      await pool.ready();
      await body(pool);
    } finally {
      await pool.close();
    }
  };
  const rows = (input: StreamTableInput) =>
    sql(input.target.database, `SELECT id, email, name, note FROM "Sales.EU"."Cust ""omers""" ORDER BY id`);

  it('writes on the worker exactly the rows the calling thread writes, masked', () =>
    withReadyWorker(async (pool) => {
      const onWorker = await target('on_worker');
      const result = await streamTable({ ...onWorker, pool });
      expect(pool.inThread).toBe(0);
      expect(result.rows).toBe(30000);

      const here = await target('in_thread');
      const inThread = new StreamWorkerPool(1);
      await streamTable({ ...here, pool: inThread });
      expect(inThread.inThread).toBe(1);

      const written = await rows(onWorker);
      expect(written).toEqual(await rows(here));
      expect(JSON.stringify(written)).not.toMatch(/Real-Mail|Realname/);
      expect(written[0]).toMatchObject({ id: 1, note: 'tab\tü 1' });
      expect(written[0]?.email).toMatch(/^u_[0-9a-f]{16}@example\.invalid$/);
    }));

  it('a stop reaches the worker: the stream ends as stopped, and the worker is not reused', () =>
    withReadyWorker(async (pool) => {
      const input = await target('stopped');
      const controller = new AbortController();
      controller.abort();
      await expect(streamTable({ ...input, signal: controller.signal, pool })).rejects.toBeInstanceOf(
        AbortedError,
      );
      const stopping = new AbortController();
      const streaming = streamTable({ ...input, signal: stopping.signal, pool });
      setTimeout(() => stopping.abort(), 20);
      await expect(streaming).rejects.toBeInstanceOf(AbortedError);
      expect(pool.inThread).toBe(0);
      // The stopped worker was ended, not put back: the next table streams in this thread.
      const next = await target('after_stop');
      await streamTable({ ...next, pool });
      expect(pool.inThread).toBe(1);
    }));
});
