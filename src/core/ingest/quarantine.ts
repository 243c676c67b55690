import type { HubContext } from '../context.js';
import { decodeCursor, idCursor, toPage, type PageRequest } from '../pagination.js';

interface QuarantineRow {
  id: number;
  connection_id: string;
  sync_run_id: string | null;
  stream: string;
  external_id: string | null;
  line: number | null;
  reason: string;
  details: unknown;
  raw: unknown;
  created_at: Date;
}

export async function listQuarantine(context: HubContext, workspaceId: string, filter: { connectionId?: string; syncRunId?: string }, page: PageRequest) {
  const { sql } = context;
  const after = decodeCursor(page.cursor, idCursor);
  const rows = await sql<QuarantineRow[]>`
    select * from hub.quarantine
    where workspace_id = ${workspaceId}
      ${filter.connectionId ? sql`and connection_id = ${filter.connectionId}` : sql``}
      ${filter.syncRunId ? sql`and sync_run_id = ${filter.syncRunId}` : sql``}
      ${after ? sql`and id > ${after[0]}` : sql``}
    order by id
    limit ${page.limit + 1}`;
  return toPage(rows, page.limit, (row) => [Number(row.id)], (row) => ({
    id: String(row.id),
    connection_id: row.connection_id,
    sync_run_id: row.sync_run_id,
    stream: row.stream,
    external_id: row.external_id,
    line: row.line,
    reason: row.reason,
    details: row.details,
    raw: row.raw,
    created_at: row.created_at.toISOString(),
  }));
}
