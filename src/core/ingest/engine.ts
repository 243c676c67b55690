import crypto from 'node:crypto';
import type { Sql } from '../../db/index.js';
import type { HubContext } from '../context.js';
import { HubError, SourceAuthError } from '../errors.js';
import { connectorOf, openCredentials, presentConnection, type ConnectionRow } from '../connections/index.js';
import { emitEvent } from '../events/index.js';
import { findFile, saveUpload } from '../files/index.js';
import { RecordError, type Connector, type ConnectorContext, type Fact, type FactKind, type Page, type SourceFile, type SourceRecord, type StreamDefinition } from './contract.js';
import { factTableList, tombstoneFacts, upsertFacts, type FactRow } from './facts.js';
import { createHttpClient } from './http.js';
import { emitSyncRunFinished, type StreamStats, type SyncRunRow } from './runs.js';

// The sync engine: owns paging, checkpoints, dedupe by content hash, quarantine,
// tombstones, heartbeats and failure handling, once, for every connector.

export interface SyncProgress {
  stream: string;
  stats: StreamStats;
}

export interface RunSyncOptions {
  onProgress?: (progress: SyncProgress) => void;
}

/** Lost ownership of the run (reaped while we were slow): stop without writing more. */
class RunLostError extends Error {}

export async function runSync(context: HubContext, runId: string, options: RunSyncOptions = {}): Promise<SyncRunRow | undefined> {
  const { sql } = context;
  const [run] = await sql<SyncRunRow[]>`
    update hub.sync_runs set status = 'running', started_at = now(), heartbeat_at = now()
    where id = ${runId} and status = 'queued'
    returning *`;
  if (!run) return undefined; // already taken, finished or reaped: nothing to do
  const log = context.log.child({ sync_run_id: run.id, connection_id: run.connection_id });
  const abort = new AbortController();
  const heartbeat = setInterval(() => {
    sql`update hub.sync_runs set heartbeat_at = now() where id = ${run.id} and status = 'running' returning id`
      .then((rows) => rows.length === 0 && abort.abort(new RunLostError('The run was reaped.')))
      .catch((error) => log.warn({ err: String(error) }, 'heartbeat failed'));
  }, context.config.HUB_HEARTBEAT_SECONDS * 1000);

  const notes: SyncRunRow['notes'] = [];
  const streamStats: Record<string, StreamStats> = {};
  let runError: { code: string; message: string } | null = null;
  try {
    const [connection] = await sql<(ConnectionRow & { deleted_at: Date | null })[]>`select * from hub.connections where id = ${run.connection_id}`;
    if (connection.deleted_at) throw new HubError('connection_deleted', 410, 'The connection was deleted before this sync started.');
    const connector = connectorOf(context, connection.kind);
    const connectorContext: ConnectorContext<unknown, unknown> = {
      config: connection.config,
      credentials: openCredentials(context, connection),
      http: createHttpClient({ signal: abort.signal, onRetry: (info) => log.warn(info, 'source request retried') }),
      file: undefined,
      batchSize: context.config.HUB_SYNC_BATCH_SIZE,
      signal: abort.signal,
      note: (code, message, details) => notes.push({ code, message, details }),
    };
    if (connector.readsFiles) connectorContext.file = await resolveRunFile(context, connection, connector, connectorContext, run.options.file_id);
    if (connector.readsFiles && !connectorContext.file) {
      throw new HubError('no_file', 400, `Nothing to read yet: upload a file with POST /v1/connections/${connection.id}/files or run "hub sync ${connection.id} --file PATH".`);
    }
    const streams = await connector.streams(connectorContext);
    for (const stream of streams) {
      const stats = (streamStats[stream.name] = emptyStats());
      try {
        await syncStream(context, { run, connection, connector, stream, stats, notes, connectorContext, onProgress: options.onProgress });
        stats.status = 'succeeded';
      } catch (error) {
        if (error instanceof RunLostError || abort.signal.reason instanceof RunLostError) throw new RunLostError();
        stats.status = 'failed';
        stats.error = describeError(error);
        log.warn({ stream: stream.name, error: stats.error }, 'stream failed');
        if (error instanceof SourceAuthError) {
          await markNeedsReauth(sql, connection.id, error.message);
          break; // the other streams would fail the same way
        }
      }
    }
    const failed = Object.entries(streamStats).filter(([, stats]) => stats.status === 'failed');
    if (failed.length > 0) runError = { code: 'streams_failed', message: `${failed.length} of ${streams.length} streams failed: ${failed.map(([name, stats]) => `${name} (${stats.error?.message})`).join('; ')}` };
  } catch (error) {
    if (error instanceof RunLostError) {
      log.warn('run was reaped while working; stopping');
      return undefined;
    }
    runError = describeError(error);
    // e.g. a file connector's download refused before any stream started
    if (error instanceof SourceAuthError) await markNeedsReauth(sql, run.connection_id, error.message);
    log.warn({ error: runError }, 'sync failed');
  } finally {
    clearInterval(heartbeat);
  }
  const finished = await sql.begin(async (tx) => {
    const [row] = await tx<SyncRunRow[]>`
      update hub.sync_runs
      set status = ${runError ? 'failed' : 'succeeded'}, finished_at = now(), heartbeat_at = now(),
          streams = ${sql.json(streamStats as never)}, notes = ${sql.json(notes as never)}, error = ${runError ? sql.json(runError) : null}
      where id = ${run.id} and status = 'running'
      returning *`;
    if (row) await emitSyncRunFinished(tx, row);
    return row;
  });
  if (finished && !runError) await sql`update hub.connections set status = 'active', status_message = null where id = ${run.connection_id} and status = 'failing'`;
  log.info({ status: finished?.status, streams: streamStats }, 'sync finished');
  return finished;
}

/** The file a run reads: the one it names, else a fresh download by the connector, else the newest upload. */
async function resolveRunFile(context: HubContext, connection: ConnectionRow, connector: Connector, connectorContext: ConnectorContext<unknown, unknown>, fileId?: string): Promise<SourceFile | undefined> {
  if (fileId) return findFile(context, connection.id, fileId);
  const fetched = await connector.fetchFile?.(connectorContext);
  if (fetched) return saveUpload(context, { workspaceId: connection.workspace_id, connectionId: connection.id }, fetched.filename, fetched.body);
  return findFile(context, connection.id);
}

function emptyStats(): StreamStats {
  return { status: 'running', read: 0, inserted: 0, updated: 0, unchanged: 0, quarantined: 0, deleted: 0 };
}

function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof HubError) return { code: error.code, message: error.message };
  return { code: 'internal_error', message: error instanceof Error ? error.message : String(error) };
}

async function markNeedsReauth(sql: Sql, connectionId: string, message: string): Promise<void> {
  await sql.begin(async (tx) => {
    const [connection] = await tx<(ConnectionRow & { previous_status: string })[]>`
      update hub.connections c set status = 'needs_reauth', status_message = ${message}, updated_at = now()
      from (select id, status as previous_status from hub.connections where id = ${connectionId} for update) previous
      where c.id = previous.id
      returning c.*, previous.previous_status`;
    // One event when the connection starts needing an owner, not one per failing run.
    if (connection && connection.previous_status !== 'needs_reauth') {
      await emitEvent(tx, { workspaceId: connection.workspace_id, type: 'connection.needs_reauth', subject: `connection:${connection.id}`, data: presentConnection(connection) });
    }
  });
}

interface StreamJob {
  run: SyncRunRow;
  connection: ConnectionRow;
  connector: Connector;
  stream: StreamDefinition;
  stats: StreamStats;
  notes: SyncRunRow['notes'];
  connectorContext: ConnectorContext<unknown, unknown>;
  onProgress?: (progress: SyncProgress) => void;
}

interface StreamStateRow {
  cursor: unknown;
  read_id: string | null;
  read_cursor: { key: string | null; checkpoint: unknown } | null;
}

async function syncStream(context: HubContext, job: StreamJob): Promise<void> {
  const { sql } = context;
  const { run, connection, stream } = job;
  const [state] = await sql<StreamStateRow[]>`
    insert into hub.stream_states (connection_id, stream, workspace_id) values (${connection.id}, ${stream.name}, ${connection.workspace_id})
    on conflict (connection_id, stream) do update set updated_at = hub.stream_states.updated_at
    returning cursor, read_id, read_cursor`;

  // A full read resumes only when it reads the same thing (readKey) as the read it continues.
  const resumable = stream.mode === 'full' && state.read_id && (state.read_cursor?.key ?? null) === (stream.readKey ?? null);
  const readId = resumable ? state.read_id! : crypto.randomUUID();
  let checkpoint: unknown = stream.mode === 'full' ? (resumable ? state.read_cursor?.checkpoint ?? null : null) : state.cursor;
  if (resumable && checkpoint !== null) job.stats.resumed_from = checkpoint;
  if (!resumable && stream.mode === 'full') {
    await sql`update hub.stream_states set read_id = ${readId}, read_started_at = now(), read_cursor = ${sql.json({ key: stream.readKey ?? null, checkpoint: null })}
              where connection_id = ${connection.id} and stream = ${stream.name}`;
  }
  // Config takes part in the hash: a new column mapping re-maps records whose data did not change.
  const hashSalt = JSON.stringify(connection.config);

  // The next page is read and parsed while this one is written: Node and PostgreSQL work at the same time.
  const pages = job.connector.read(stream, checkpoint, job.connectorContext)[Symbol.asyncIterator]();
  try {
    let next = prefetch(pages);
    for (;;) {
      const result = await next;
      if (result.done) break;
      next = prefetch(pages);
      await writePage(context, job, result.value, readId, hashSalt);
      checkpoint = result.value.checkpoint;
      job.onProgress?.({ stream: stream.name, stats: job.stats });
    }
  } finally {
    await pages.return?.();
  }

  if (stream.mode === 'full') {
    await sql.begin(async (tx) => {
      await applyTombstones(tx as unknown as Sql, context.config.HUB_DELETE_GUARD_SHARE, job, readId);
      await tx`update hub.stream_states set read_id = null, read_cursor = null, cursor = ${sql.json(checkpoint as never)}, updated_at = now()
               where connection_id = ${connection.id} and stream = ${stream.name}`;
      await saveStats(tx as unknown as Sql, run.id, stream.name, job.stats);
    });
  }
}

/** Asks for the next page now; a failure surfaces when the page is awaited, not as an unhandled rejection. */
function prefetch(pages: AsyncIterator<Page>): Promise<IteratorResult<Page>> {
  const next = pages.next();
  next.catch(() => undefined);
  return next;
}

interface Classified {
  toWrite: { record: SourceRecord; hash: string; facts: Fact[] }[];
  /** Unchanged records: only marked as seen by this read. */
  unchanged: number[];
  /** Records whose new version was quarantined: the last good version is kept and marked seen. */
  kept: number[];
  quarantine: { reason: string; raw: unknown; line?: number; externalId?: string; details?: unknown }[];
  updatedIds: number[];
}

/** One page, one transaction: records, facts, quarantine, stats and the checkpoint commit together. */
async function writePage(context: HubContext, job: StreamJob, page: Page, readId: string, hashSalt: string): Promise<void> {
  const { run, connection, stream, stats } = job;
  await context.sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    // Not waiting for the WAL flush is safe: the checkpoint commits with the page, so a
    // page lost by a server crash is read again from the previous checkpoint.
    await tx`set local synchronous_commit = off`;
    // Locks the run row: the reaper cannot fail the run halfway through a page.
    const [owned] = await tx`update hub.sync_runs set heartbeat_at = now() where id = ${run.id} and status = 'running' returning id`;
    if (!owned) throw new RunLostError();

    const classified = await classify(tx, job, page, readId, hashSalt);
    const written = classified.toWrite.length === 0 ? [] : await tx<{ id: number; external_id: string }[]>`
      insert into hub.source_records (workspace_id, connection_id, stream, external_id, data, hash, last_seen_read)
      select ${connection.workspace_id}, ${connection.id}, ${stream.name}, t.external_id, t.data, t.hash, ${readId}
      from jsonb_to_recordset(${tx.json(classified.toWrite.map(({ record, hash }) => ({ external_id: record.externalId, data: record.data, hash })) as never)})
        as t(external_id text, data jsonb, hash text)
      on conflict (connection_id, stream, external_id) do update
        set data = excluded.data, hash = excluded.hash, last_seen_read = excluded.last_seen_read,
            updated_at = now(), deleted_at = null, deleted_in_source = false
      returning id, external_id`;
    const idOf = new Map(written.map((row) => [row.external_id, Number(row.id)]));

    const factsByKind = new Map<FactKind, FactRow[]>();
    for (const { record, facts } of classified.toWrite) {
      for (const fact of facts) {
        const rows = factsByKind.get(fact.kind) ?? [];
        rows.push({ source_record_id: idOf.get(record.externalId)!, external_id: record.externalId, fields: fact.fields });
        factsByKind.set(fact.kind, rows);
      }
    }
    const scope = { workspaceId: connection.workspace_id, connectionId: connection.id };
    for (const [kind, rows] of factsByKind) await upsertFacts(tx, scope, kind, rows);
    // A changed record that no longer states a kind of fact (e.g. its amount was cleared) loses that fact.
    if (classified.updatedIds.length > 0) {
      const updated = new Set(classified.updatedIds);
      for (const table of factTableList) {
        const stated = new Set((factsByKind.get(table.kind) ?? []).map((row) => row.source_record_id));
        const dropped = [...updated].filter((id) => !stated.has(id));
        if (dropped.length > 0) await tombstoneFacts(tx, dropped, [table.kind]);
      }
    }
    const seen = [...classified.unchanged, ...classified.kept];
    if (seen.length > 0) await tx`update hub.source_records set last_seen_read = ${readId} where id = any(${seen}::bigint[])`;
    if (classified.quarantine.length > 0) {
      await tx`
        insert into hub.quarantine (workspace_id, connection_id, sync_run_id, stream, external_id, line, reason, details, raw)
        select ${connection.workspace_id}, ${connection.id}, ${run.id}, ${stream.name}, t.external_id, t.line, t.reason, t.details, t.raw
        from jsonb_to_recordset(${tx.json(classified.quarantine.map((entry) => ({ external_id: entry.externalId ?? null, line: entry.line ?? null, reason: entry.reason, details: entry.details ?? null, raw: entry.raw ?? null })) as never)})
          as t(external_id text, line int, reason text, details jsonb, raw jsonb)`;
    }

    stats.read += page.records.length + (page.rejected?.length ?? 0);
    stats.inserted += classified.toWrite.length - classified.updatedIds.length;
    stats.updated += classified.updatedIds.length;
    stats.unchanged += classified.unchanged.length;
    stats.quarantined += classified.quarantine.length;
    if (stream.mode === 'full') {
      await tx`update hub.stream_states set read_cursor = ${tx.json({ key: stream.readKey ?? null, checkpoint: page.checkpoint } as never)}, updated_at = now()
               where connection_id = ${connection.id} and stream = ${stream.name}`;
    } else {
      await tx`update hub.stream_states set cursor = ${tx.json(page.checkpoint as never)}, updated_at = now()
               where connection_id = ${connection.id} and stream = ${stream.name}`;
    }
    await saveStats(tx, run.id, stream.name, stats);
  });
}

async function classify(tx: Sql, job: StreamJob, page: Page, readId: string, hashSalt: string): Promise<Classified> {
  const { connection, stream } = job;
  const result: Classified = { toWrite: [], unchanged: [], kept: [], quarantine: [], updatedIds: [] };
  for (const rejected of page.rejected ?? []) result.quarantine.push(rejected);

  const ids = page.records.map((record) => record.externalId);
  const existing = new Map(
    (ids.length === 0 ? [] : await tx<{ id: number; external_id: string; hash: string; last_seen_read: string | null; deleted_at: Date | null }[]>`
      select id, external_id, hash, last_seen_read, deleted_at from hub.source_records
      where connection_id = ${connection.id} and stream = ${stream.name} and external_id = any(${ids}::text[])`).map((row) => [row.external_id, { ...row, id: Number(row.id) }]),
  );
  const seenInPage = new Map<string, number | undefined>();
  for (const record of page.records) {
    const previous = existing.get(record.externalId);
    if (seenInPage.has(record.externalId) || previous?.last_seen_read === readId) {
      const firstLine = seenInPage.get(record.externalId);
      result.quarantine.push({
        reason: `Duplicate key "${record.externalId}": ${firstLine ? `line ${firstLine}` : 'an earlier record'} of this read has the same key; the first one is kept.`,
        raw: record.data, line: record.line, externalId: record.externalId,
      });
      continue;
    }
    seenInPage.set(record.externalId, record.line);
    // Hashed before mapping: an unchanged record (most of a re-sync) is never mapped again.
    const hash = contentHash(hashSalt, record.data);
    if (previous && previous.hash === hash && !previous.deleted_at) {
      result.unchanged.push(previous.id);
      continue;
    }
    let facts: Fact[];
    try {
      facts = job.connector.map(stream, record, job.connectorContext);
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      result.quarantine.push({ reason: error.message, details: error.details, raw: record.data, line: record.line, externalId: record.externalId });
      // The last good version stays: a bad edit in the source must not delete the client.
      if (previous && !previous.deleted_at) result.kept.push(previous.id);
      continue;
    }
    result.toWrite.push({ record, hash, facts });
    if (previous) result.updatedIds.push(previous.id);
  }
  return result;
}

export function contentHash(salt: string, data: unknown): string {
  return crypto.createHash('sha256').update(salt).update('\n').update(stableStringify(data)).digest('base64url');
}

function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${stableStringify(v)}`).join(',')}}`;
}

async function saveStats(tx: Sql, runId: string, stream: string, stats: StreamStats): Promise<void> {
  await tx`update hub.sync_runs set streams = jsonb_set(streams, ${[stream]}::text[], ${tx.json(stats as never)}), heartbeat_at = now() where id = ${runId}`;
}

/**
 * End of a completed full read: records not seen become tombstones, unless that would
 * remove more than the guard share of the stream (and the run did not confirm deletes).
 */
async function applyTombstones(tx: Sql, guardShare: number, job: StreamJob, readId: string): Promise<void> {
  const { connection, stream, run, stats, notes } = job;
  const [{ live, missing }] = await tx<{ live: number; missing: number }[]>`
    select count(*)::int as live, count(*) filter (where last_seen_read is distinct from ${readId})::int as missing
    from hub.source_records
    where connection_id = ${connection.id} and stream = ${stream.name} and deleted_at is null`;
  if (missing === 0) return;
  if (missing > guardShare * live && !run.options.confirm_deletes) {
    notes.push({
      code: 'deletes_skipped',
      message: `${missing} of ${live} records of "${stream.name}" were not in this read (over ${Math.round(guardShare * 100)}%); nothing was deleted. If they really are gone, sync again with {"confirm_deletes": true}.`,
      details: { stream: stream.name, missing, live, guard_share: guardShare },
    });
    return;
  }
  const gone = await tx<{ id: number }[]>`
    update hub.source_records set deleted_at = now(), deleted_in_source = true, updated_at = now()
    where connection_id = ${connection.id} and stream = ${stream.name} and deleted_at is null and last_seen_read is distinct from ${readId}
    returning id`;
  await tombstoneFacts(tx, gone.map((row) => Number(row.id)));
  stats.deleted += gone.length;
}
