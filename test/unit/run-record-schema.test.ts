// The run record's JSON Schema (schema/run-record.schema.json) is generated from the TypeScript
// types; this keeps the committed file in step with them and checks it accepts and rejects.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { createGenerator } from 'ts-json-schema-generator';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('run record JSON Schema', () => {
  it('is what the types generate (run `npm run schema` after changing the record)', async () => {
    const generated = createGenerator({
      path: `${ROOT}src/record/run-record.ts`,
      type: 'RunRecord',
      tsconfig: `${ROOT}tsconfig.json`,
      topRef: false,
      additionalProperties: true,
    }).createSchema('RunRecord');
    const committed = JSON.parse(await readFile(`${ROOT}schema/run-record.schema.json`, 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(generated)));
  }, 60_000);

  it('accepts a record with extra fields and rejects a renamed required one', async () => {
    const schema = JSON.parse(await readFile(`${ROOT}schema/run-record.schema.json`, 'utf8'));
    const validate = new Ajv({ allErrors: true }).compile(schema);
    const record = {
      schemaVersion: 1,
      runId: 'r',
      outcome: 'succeeded',
      exitCode: 0,
      startedAt: 'x',
      finishedAt: 'x',
      durationMs: 1,
      host: 'h',
      toolVersion: '0.1.0',
      target: { server: 's', database: 'app' },
      steps: [{ name: 'fetch', status: 'succeeded', startedAt: 'x', finishedAt: 'x', durationMs: 0 }],
      migrations: [],
      verify: { checks: [] },
      warnings: [],
      somethingNew: { added: 'later' },
    };
    expect(validate(record), JSON.stringify(validate.errors)).toBe(true);
    const { outcome: _dropped, ...renamed } = record;
    expect(validate({ ...renamed, result: 'succeeded' })).toBe(false);
    expect(validate({ ...record, outcome: 'fine' })).toBe(false);
  });
});
