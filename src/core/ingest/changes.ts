import type { Sql } from '../../db/index.js';
import type { FactKind } from '../../db/schema/canonical.js';

// Derived data follows the facts: every write or tombstone of a fact that something is
// derived from is logged in the same transaction, and a `derive` job (one queue per
// workspace, so they run one at a time) brings golden records and rollups up to date.
// A crash between the two loses nothing: the log row commits with the facts.

export const DERIVE_TASK = 'derive';

/** Kinds reconciliation reads (people and organizations → golden records): their changed ids are logged. */
const RECONCILED = new Set<FactKind>(['person', 'organization']);

/**
 * Called by every writer of facts, in its transaction. Rollups need no ids: triggers on the
 * fact tables mark the periods a change touches (migration 0002); the job drains both.
 */
export async function factsChanged(sql: Sql, workspaceId: string, kind: FactKind, sourceRecordIds: number[]): Promise<void> {
  if (sourceRecordIds.length === 0) return;
  if (RECONCILED.has(kind)) await sql`insert into hub.fact_changes (workspace_id, kind, source_record_ids) values (${workspaceId}, ${kind}, ${sourceRecordIds}::bigint[])`;
  await enqueueDerive(sql, workspaceId);
}

export async function enqueueDerive(sql: Sql, workspaceId: string): Promise<void> {
  // job_key coalesces the pages of a sync into few jobs; queue_name runs them in order.
  await sql`select graphile_worker.add_job(${DERIVE_TASK}, json_build_object('workspace_id', ${workspaceId}::text),
    queue_name => ${`derive:${workspaceId}`}, job_key => ${`derive:${workspaceId}`}, max_attempts => 25)`;
}
