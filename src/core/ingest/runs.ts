import type { TransactionSql } from 'postgres';
import { z } from 'zod';
import type { Sql } from '../../db/index.js';
import type { HubContext } from '../context.js';
import { HubError, notFound } from '../errors.js';
import { decodeCursor, timeIdCursor, toPage, type PageRequest } from '../pagination.js';
import { getConnection } from '../connections/index.js';
import { emitEvent } from '../events/index.js';

// Sync runs: requested with their job in one transaction, claimed by a worker, reaped when it dies.

export const SYNC_TASK = 'sync';

export interface StreamStats {
  status: 'running' | 'succeeded' | 'failed';
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  quarantined: number;
  deleted: number;
  resumed_from?: unknown;
  error?: { code: string; message: string };
}

export interface SyncRunRow {
  id: string;
  workspace_id: string;
  connection_id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  trigger: 'api' | 'cli' | 'schedule';
  options: SyncOptions;
  streams: Record<string, StreamStats>;
  notes: { code: string; message: string; details?: unknown }[];
  error: { code: string; message: string } | null;
  requested_at: Date;
  started_at: Date | null;
  heartbeat_at: Date | null;
  finished_at: Date | null;
}

export const syncOptionsSchema = z
  .object({
    file_id: z.uuid().optional().describe('File connectors: read this uploaded file instead of the newest one.'),
    confirm_deletes: z.boolean().optional().describe('Apply tombstones even when more than the guard share of a stream disappeared.'),
  })
  .strict();
export type SyncOptions = z.infer<typeof syncOptionsSchema>;

export function presentSyncRun(row: SyncRunRow) {
  return {
    id: row.id,
    connection_id: row.connection_id,
    status: row.status,
    trigger: row.trigger,
    options: row.options,
    streams: row.streams,
    notes: row.notes,
    error: row.error,
    requested_at: row.requested_at.toISOString(),
    started_at: row.started_at?.toISOString() ?? null,
    heartbeat_at: row.heartbeat_at?.toISOString() ?? null,
    finished_at: row.finished_at?.toISOString() ?? null,
  };
}

/** Queues a sync; the job is added in the same transaction, so a run never exists without its job. */
export async function requestSync(context: HubContext, workspaceId: string, connectionId: string, trigger: SyncRunRow['trigger'], options: SyncOptions = {}): Promise<SyncRunRow> {
  await getConnection(context, workspaceId, connectionId);
  try {
    return await context.sql.begin(async (tx) => {
      const [run] = await tx<SyncRunRow[]>`
        insert into hub.sync_runs (workspace_id, connection_id, trigger, options)
        values (${workspaceId}, ${connectionId}, ${trigger}, ${tx.json(options as never)})
        returning *`;
      await enqueueSyncJob(tx as unknown as Sql, run.id);
      return run;
    });
  } catch (error) {
    if ((error as { constraint_name?: string }).constraint_name === 'sync_runs_one_active_per_connection') {
      const [active] = await context.sql<{ id: string }[]>`select id from hub.sync_runs where connection_id = ${connectionId} and status in ('queued', 'running')`;
      throw new HubError('sync_in_progress', 409, 'This connection is already syncing; wait for that run to finish.', { sync_run_id: active?.id });
    }
    throw error;
  }
}

export async function enqueueSyncJob(sql: Sql, runId: string): Promise<void> {
  await sql`select graphile_worker.add_job(${SYNC_TASK}, json_build_object('sync_run_id', ${runId}::text), job_key => ${`sync:${runId}`}, max_attempts => 3)`;
}

export async function getSyncRun(context: HubContext, workspaceId: string, id: string): Promise<SyncRunRow> {
  if (!z.uuid().safeParse(id).success) throw notFound(`Sync run ${id}`);
  const [row] = await context.sql<SyncRunRow[]>`select * from hub.sync_runs where id = ${id} and workspace_id = ${workspaceId}`;
  if (!row) throw notFound(`Sync run ${id}`);
  return row;
}

export async function listSyncRuns(context: HubContext, workspaceId: string, filter: { connectionId?: string }, page: PageRequest) {
  const after = decodeCursor(page.cursor, timeIdCursor);
  const { sql } = context;
  const rows = await sql<(SyncRunRow & { sort_ts: string })[]>`
    select *, to_json(requested_at)#>>'{}' as sort_ts from hub.sync_runs
    where workspace_id = ${workspaceId}
      ${filter.connectionId ? sql`and connection_id = ${filter.connectionId}` : sql``}
      ${after ? sql`and (requested_at, id) < (${after[0]}::text::timestamptz, ${after[1]}::uuid)` : sql``}
    order by requested_at desc, id desc
    limit ${page.limit + 1}`;
  return toPage(rows, page.limit, (row) => [row.sort_ts, row.id], presentSyncRun);
}

/**
 * A running sync whose heartbeat stopped (its worker died) is marked failed, which
 * releases the connection; the next run resumes from the last committed checkpoint.
 */
export async function reapStaleRuns(sql: Sql, staleSeconds: number): Promise<string[]> {
  const rows = await sql.begin(async (tx) => {
    const reaped = await tx<SyncRunRow[]>`
      update hub.sync_runs
      set status = 'failed', finished_at = now(),
          error = ${sql.json({ code: 'worker_lost', message: `The worker running this sync stopped responding for over ${staleSeconds} s; the next sync resumes from the last checkpoint.` })}
      where status = 'running' and heartbeat_at < now() - make_interval(secs => ${staleSeconds})
      returning *`;
    for (const run of reaped) await emitSyncRunFinished(tx, run);
    return reaped;
  });
  return rows.map((row) => row.id);
}

/** sync_run.completed or sync_run.failed, in the transaction that finished the run. */
export async function emitSyncRunFinished(tx: Sql | TransactionSql, run: SyncRunRow): Promise<void> {
  await emitEvent(tx, { workspaceId: run.workspace_id, type: run.status === 'succeeded' ? 'sync_run.completed' : 'sync_run.failed', subject: `connection:${run.connection_id}`, data: presentSyncRun(run) });
}

/** Connections with a schedule get a sync when their interval has passed since the last request. */
export async function requestScheduledSyncs(context: HubContext): Promise<number> {
  const due = await context.sql<{ id: string; workspace_id: string }[]>`
    select c.id, c.workspace_id from hub.connections c
    where c.deleted_at is null and c.schedule is not null and c.status = 'active'
      and not exists (
        select 1 from hub.sync_runs r where r.connection_id = c.id
          and (r.status in ('queued', 'running') or r.requested_at > now() - make_interval(mins => ((c.schedule::jsonb)->>'every_minutes')::int)))`;
  let started = 0;
  for (const connection of due) {
    try {
      await requestSync(context, connection.workspace_id, connection.id, 'schedule');
      started++;
    } catch (error) {
      if (!(error instanceof HubError && error.code === 'sync_in_progress')) throw error;
    }
  }
  return started;
}
