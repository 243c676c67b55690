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
}

export const factTableList: FactTable[] = (Object.entries(factTables) as [FactKind, (typeof factTables)[FactKind]][]).map(([kind, table]) => {
  const config = getTableConfig(table);
  return {
    kind,
    qualifiedName: `${config.schema}.${config.name}`,
    columns: config.columns.filter((column) => !ATTRIBUTION.has(column.name)).map((column) => ({ name: column.name, type: column.getSQLType(), notNull: column.notNull })),
  };
});

const byKind = new Map(factTableList.map((table) => [table.kind, table]));

export interface FactRow {
  source_record_id: number;
  external_id: string;
  fields: Record<string, unknown>;
}

/** Upserts one kind's facts for a page; a re-stated fact is revived if it had been tombstoned. */
export async function upsertFacts(sql: Sql, scope: { workspaceId: string; connectionId: string }, kind: FactKind, rows: FactRow[]): Promise<void> {
  if (rows.length === 0) return;
  const table = byKind.get(kind)!;
  const known = new Set(table.columns.map((column) => column.name));
  for (const row of rows) {
    for (const field of Object.keys(row.fields)) {
      if (!known.has(field)) throw new Error(`Connector produced unknown field "${field}" for ${kind}.`);
    }
  }
  const columns = table.columns;
  const recordset = rows.map((row) => ({ ...row.fields, source_record_id: row.source_record_id, external_id: row.external_id }));
  const columnList = columns.map((column) => `"${column.name}"`).join(', ');
  const typedColumns = columns.map((column) => `"${column.name}" ${column.type}`).join(', ');
  // A fact that leaves out a not-null column gets the column's empty value (no emails: '{}').
  const values = columns.map((column) => (column.notNull ? `coalesce(t."${column.name}", ${emptyValue(column.type)})` : `t."${column.name}"`));
  await sql.unsafe(
    `insert into ${table.qualifiedName} (workspace_id, connection_id, source_record_id, external_id, ${columnList})
     select $1::uuid, $2::uuid, t.source_record_id, t.external_id, ${values.join(', ')}
     from jsonb_to_recordset($3::jsonb) as t(source_record_id bigint, external_id text, ${typedColumns})
     on conflict (source_record_id) do update set
       external_id = excluded.external_id, ${columns.map((column) => `"${column.name}" = excluded."${column.name}"`).join(', ')},
       updated_at = now(), deleted_at = null`,
    [scope.workspaceId, scope.connectionId, recordset as never],
  );
  await factsChanged(sql, scope.workspaceId, kind, rows.map((row) => row.source_record_id));
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
