// Prisma's own schema engine (@prisma/schema-engine-wasm, through @prisma/adapter-pg) as a judge:
// what `prisma migrate status` would say of a database and a migrations directory — which
// migrations it finds unapplied, edited (checksum) or failed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { DiagnoseMigrationHistoryOutput, SchemaEngine } from '@prisma/schema-engine-wasm';
import { cluster } from './pg-test-env.js';

/** The part of the WebAssembly global used here (the project's TypeScript libs do not declare it). */
const wasmApi = (
  globalThis as unknown as {
    WebAssembly: {
      compile(bytes: Uint8Array): Promise<object>;
      instantiate(module: object, imports: object): Promise<{ exports: Record<string, unknown> }>;
    };
  }
).WebAssembly;

type Runtime = typeof import('@prisma/schema-engine-wasm') & { __wbg_set_wasm(exports: unknown): void };
let runtime: Promise<Runtime> | undefined;

/** The engine's JS glue with its WebAssembly instantiated (Node's ESM cannot import .wasm directly). */
function loadRuntime(): Promise<Runtime> {
  runtime ??= (async () => {
    const glue = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as unknown as Runtime;
    const wasmPath = createRequire(import.meta.url)
      .resolve('@prisma/schema-engine-wasm/schema_engine_bg')
      .replace(/\.js$/, '.wasm');
    const module = await wasmApi.compile(await readFile(wasmPath));
    const instance = await wasmApi.instantiate(module, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return runtime;
}

const SCHEMA = 'datasource db {\n  provider = "postgresql"\n}\n';

/** The engine's diagnoseMigrationHistory of `database` against the migrations in `dir` (no shadow database). */
export async function prismaDiagnose(database: string, dir: string): Promise<DiagnoseMigrationHistoryOutput> {
  const info = cluster();
  const connectionString = `postgresql://${info.user}:${encodeURIComponent(info.password)}@${info.host}:${info.port}/${database}`;
  const { SchemaEngine: Engine } = await loadRuntime();
  const engine: SchemaEngine = await Engine.new(
    { datamodels: [['schema.prisma', SCHEMA]] },
    () => undefined,
    bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString })),
  );
  try {
    const migrationDirectories = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
      .map((entry) => ({
        path: entry.name,
        migrationFile: {
          path: 'migration.sql',
          content: {
            tag: 'ok' as const,
            value: readFileSync(join(dir, entry.name, 'migration.sql'), 'utf8'),
          },
        },
      }));
    const lock = join(dir, 'migration_lock.toml');
    return await engine.diagnoseMigrationHistory({
      migrationsList: {
        baseDir: dir,
        lockfile: {
          path: 'migration_lock.toml',
          content: existsSync(lock) ? readFileSync(lock, 'utf8') : null,
        },
        shadowDbInitScript: '',
        migrationDirectories,
      },
      optInToShadowDatabase: false,
      filters: { externalTables: [], externalEnums: [] },
    });
  } finally {
    engine.free();
  }
}
