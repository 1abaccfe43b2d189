// The columns of every table in a backup, read from its schema without a database: pre-data as
// SQL (`pg_restore --schema-only`, or the top of a plain dump up to the first row of data),
// parsed by the PostgreSQL parser. What `plan` checks the anonymization rules against.
import { Readable } from 'node:stream';
import { pgTool } from '../infra/pg/pg-bin.js';
import { runTool } from '../infra/process/run-tool.js';
import { loadParser, type ParsedStatement } from '../sql/parse-sql.js';
import { tableKey } from '../sql/table-key.js';
import type { ColumnInfo } from './column-info.js';
import { plainSqlEvents } from './plain-sql-events.js';
import type { PreparedArchive } from './prepare-archive.js';
import { openBackup } from './read-backup.js';

/** Columns of the archive's tables, in table order. */
export async function archiveColumns(archive: PreparedArchive, signal?: AbortSignal): Promise<ColumnInfo[]> {
  await loadParser();
  let source: AsyncIterable<Buffer>;
  if (archive.kind === 'pg_restore') {
    // As bytes: the schema is in the dump's encoding, which plainSqlEvents reads (a LATIN1
    // database's column names decoded as UTF-8 would be names no table has).
    const { stdoutBytes } = await runTool({
      bytes: true,
      file: pgTool('pg_restore'),
      args: [
        '--schema-only',
        '--section=pre-data',
        '--no-owner',
        '--no-privileges',
        '--file=-',
        archive.path,
      ],
      ...(signal && { signal }),
    });
    source = Readable.from([stdoutBytes ?? Buffer.alloc(0)]);
  } else {
    source = openBackup(archive.path, archive.compression === 'gzip');
  }
  const columns: ColumnInfo[] = [];
  try {
    for await (const event of plainSqlEvents(source, archive.path)) {
      if (event.type === 'copy-start') break; // pg_dump writes all of pre-data before any data
      if (event.type === 'sql')
        for (const statement of event.statements) columns.push(...columnsOf(statement));
    }
  } finally {
    (source as Readable).destroy?.();
  }
  return columns;
}

interface CreateStmtNode {
  relation?: { schemaname?: string; relname?: string };
  tableElts?: {
    ColumnDef?: {
      colname?: string;
      typeName?: {
        names?: { String?: { sval?: string } }[];
        typmods?: { A_Const?: { ival?: { ival?: number } } }[];
        arrayBounds?: unknown[];
      };
      constraints?: { Constraint?: { contype?: string } }[];
    };
  }[];
}

function columnsOf(statement: ParsedStatement): ColumnInfo[] {
  if (statement.kind !== 'CreateStmt') return [];
  const node = statement.node as CreateStmtNode;
  // Spelled as a run's catalog reads spell it (a schema with a dot quoted: "Sales.EU".orders),
  // so that rules, samples and direct reads meet the same table.
  const table = tableKey(node.relation?.schemaname ?? 'public', node.relation?.relname ?? '');
  return (node.tableElts ?? []).flatMap((element) => {
    const column = element.ColumnDef;
    if (!column?.colname) return [];
    const name = column.typeName?.names?.at(-1)?.String?.sval ?? 'unknown';
    const type = column.typeName?.arrayBounds ? `_${name}` : name;
    const length = column.typeName?.typmods?.[0]?.A_Const?.ival?.ival;
    const constraints = (column.constraints ?? []).map((c) => c.Constraint?.contype);
    return [
      {
        table,
        column: column.colname,
        type,
        ...((name === 'varchar' || name === 'bpchar') && length !== undefined && { maxLength: length }),
        ...((constraints.includes('CONSTR_NOTNULL') || constraints.includes('CONSTR_PRIMARY')) && {
          notNull: true,
        }),
        ...(constraints.includes('CONSTR_GENERATED') && { generated: true }),
      },
    ];
  });
}
