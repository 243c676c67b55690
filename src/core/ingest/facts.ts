import { getTableConfig } from 'drizzle-orm/pg-core';
import { factTables, type FactKind } from '../../db/schema/canonical.js';
import type { Sql } from '../../db/index.js';
import { factsChanged } from './changes.js';

// How facts reach their canonical tables, derived from the drizzle schema so that a
// new column needs no second edit here.

const ATTRIBUTION = new Set(['workspace_id', 'connection_id', 'source_record_id', 'external_id', 'ingested_at', 'updated_at', 'deleted_at']);

interface FactTable {
  kind: FactKind;
  qualifiedName: string;
  /** Columns a connector may set, with their SQL types for jsonb_to_recordset. */
  columns: { name: string; type: string; notNull: boolean }[];
  insertStatement: string;
  upsertStatement: string;
}

export const factTableList: FactTable[] = (Object.entries(factTables) as [FactKind, (typeof factTables)[FactKind]][]).map(([kind, table]) => {
  const config = getTableConfig(table);
  const qualifiedName = `${config.schema}.${config.name}`;
  const columns = config.columns.filter((column) => !ATTRIBUTION.has(column.name)).map((column) => ({ name: column.name, type: column.getSQLType(), notNull: column.notNull }));
  return { kind, qualifiedName, columns, ...statements(qualifiedName, columns) };
});

const byKind = new Map(factTableList.map((table) => [table.kind, table]));

export interface FactRow {
  source_record_id: number;
  external_id: string;
  fields: Record<string, unknown>;
}

/**
 * Writes one kind's facts for a page; a re-stated fact is revived if it had been tombstoned.
 * `fresh`: every row belongs to a source record created in this transaction, so none can
 * exist yet and a plain insert (cheaper than an upsert) does.
 */
export async function upsertFacts(sql: Sql, scope: { workspaceId: string; connectionId: string }, kind: FactKind, rows: FactRow[], options: { fresh?: boolean } = {}): Promise<void> {
  if (rows.length === 0) return;
  const table = byKind.get(kind)!;
  for (const row of rows) checkFields(table, row.fields);
  const ids = rows.map((row) => row.source_record_id);
  // The change log does not wait for the write: both go out at once, in the same transaction.
  await Promise.all([
    sql.unsafe(options.fresh ? table.insertStatement : table.upsertStatement, [
      scope.workspaceId, scope.connectionId, ids as never, rows.map((row) => row.external_id) as never, JSON.stringify(rows.map((row) => row.fields)),
    ]),
    factsChanged(sql, scope.workspaceId, kind, ids),
  ]);
}

/** Rows of a page come as arrays of ids and keys beside one JSON array of fields: one parse, no per-row statement. */
function statements(qualifiedName: string, columns: FactTable['columns']): { insertStatement: string; upsertStatement: string } {
  const columnList = columns.map((column) => `"${column.name}"`).join(', ');
  const typedColumns = columns.map((column) => `"${column.name}" ${column.type}`).join(', ');
  // A fact that leaves out a not-null column gets the column's empty value (no emails: '{}').
  const values = columns.map((column) => (column.notNull ? `coalesce(t."${column.name}", ${emptyValue(column.type)})` : `t."${column.name}"`));
  const insertStatement = `insert into ${qualifiedName} (workspace_id, connection_id, source_record_id, external_id, ${columnList})
     select $1::uuid, $2::uuid, t.source_record_id, t.external_id, ${values.join(', ')}
     from rows from (unnest($3::bigint[]), unnest($4::text[]), jsonb_to_recordset($5::text::jsonb) as (${typedColumns}))
       as t(source_record_id, external_id, ${columnList})`;
  const upsertStatement = `${insertStatement}
     on conflict (source_record_id) do update set
       external_id = excluded.external_id, ${columns.map((column) => `"${column.name}" = excluded."${column.name}"`).join(', ')},
       updated_at = now(), deleted_at = null`;
  return { insertStatement, upsertStatement };
}

// Connectors emit the same fields row after row: a set of keys already checked is not checked again.
const checkedShapes = new WeakMap<FactTable, string[]>();
function checkFields(table: FactTable, fields: Record<string, unknown>): void {
  const keys = Object.keys(fields);
  const checked = checkedShapes.get(table);
  if (checked && checked.length === keys.length && keys.every((key, index) => key === checked[index])) return;
  for (const field of keys) {
    if (!table.columns.some((column) => column.name === field)) throw new Error(`Connector produced unknown field "${field}" for ${table.kind}.`);
  }
  checkedShapes.set(table, keys);
}

function emptyValue(type: string): string {
  if (type.endsWith('[]')) return `'{}'::${type}`;
  return type === 'jsonb' ? `'{}'::jsonb` : '0';
}

/** Tombstones the facts of the given source records, in every kind or only the kinds listed. */
export async function tombstoneFacts(sql: Sql, sourceRecordIds: number[], kinds: FactKind[] = factTableList.map((table) => table.kind)): Promise<void> {
  if (sourceRecordIds.length === 0) return;
  for (const kind of kinds) {
    const gone = await sql.unsafe<{ workspace_id: string; source_record_id: number }[]>(
      `update ${byKind.get(kind)!.qualifiedName} set deleted_at = now(), updated_at = now() where source_record_id = any($1::bigint[]) and deleted_at is null
       returning workspace_id, source_record_id`,
      [sourceRecordIds as never],
    );
    if (gone.length > 0) await factsChanged(sql, gone[0].workspace_id, kind, gone.map((row) => Number(row.source_record_id)));
  }
}
