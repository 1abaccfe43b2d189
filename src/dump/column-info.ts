// A column as the schema declares it: what the PII gate, the rules and the samplers look at.

/** One column of one table (`schema.table`), with its type as PostgreSQL prints it. */
export interface ColumnInfo {
  table: string;
  column: string;
  type: string;
  /** A generated column: no data in the dump, recomputed by PostgreSQL (not PII of its own). */
  generated?: boolean;
}
