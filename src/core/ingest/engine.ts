import crypto from 'node:crypto';
import type { Sql } from '../../db/index.js';
import type { HubContext } from '../context.js';
import { HubError, SourceAuthError } from '../errors.js';
import { connectorOf, openCredentials, presentConnection, type ConnectionRow } from '../connections/index.js';
import { emitEvent } from '../events/index.js';
import { findFile, saveUpload } from '../files/index.js';
import { RecordError, type Connector, type ConnectorContext, type Fact, type FactKind, type Page, type SourceFile, type SourceRecord, type StreamDefinition } from './contract.js';
import { factTableList, tombstoneFacts, upsertFacts, type FactRow } from './facts.js';
import { hashRecord } from './hash.js';
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
  const hashPrefix = `${JSON.stringify(connection.config)}\n`;
  // The next page is read, parsed and hashed while this one is written: Node and PostgreSQL work at the same time.
  const pages = job.connector.read(stream, checkpoint, job.connectorContext)[Symbol.asyncIterator]();
  const prefetch = () => {
    const next = pages.next().then((result) => (result.done ? undefined : prepare(result.value, hashPrefix)));
    next.catch(() => undefined); // a failure surfaces when the page is awaited, not as an unhandled rejection
    return next;
  };
  try {
    let next = prefetch();
    for (;;) {
      const prepared = await next;
      if (!prepared) break;
      next = prefetch();
      await writePage(context, job, prepared, readId);
      checkpoint = prepared.page.checkpoint;
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

/** A page with what needs no database, worked out before its transaction. */
interface PreparedPage {
  page: Page;
  records: PreparedRecord[];
  /** The records' data as one JSON array, in page order: what a page of new records stores. */
  json: string;
}

interface PreparedRecord {
  record: SourceRecord;
  hash: string;
}

/**
 * Hashes a page, in slices so that the page being written is not kept waiting. (Mapping ahead
 * too was measured: no faster, and the facts kept alive meanwhile cost ~20 MB of peak RSS.)
 */
async function prepare(page: Page, hashPrefix: string): Promise<PreparedPage> {
  const records: PreparedRecord[] = new Array(page.records.length);
  // One string per page, not per record: less for the garbage collector to keep and move.
  const jsons: string[] = new Array(page.records.length);
  for (let index = 0; index < page.records.length; index++) {
    if (index > 0 && index % PREPARE_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    const record = page.records[index];
    const { hash, json } = hashRecord(hashPrefix, record.data);
    jsons[index] = json;
    records[index] = { record, hash };
  }
  return { page, records, json: jsonArray(jsons) };
}
const PREPARE_SLICE = 250;

interface WrittenRecord {
  item: PreparedRecord;
  id: number;
  facts: Fact[];
}

interface Classified {
  /** Records written as new by this page, with their new ids. */
  inserted: WrittenRecord[];
  /** Records whose data changed (or that come back after a tombstone). */
  updated: WrittenRecord[];
  /** Unchanged records: only marked as seen by this read. */
  unchanged: number[];
  /** Records whose new version was quarantined: the last good version is kept and marked seen. */
  kept: number[];
  quarantine: { reason: string; raw: unknown; line?: number; externalId?: string; details?: unknown }[];
}

/** One page, one transaction: records, facts, quarantine, stats and the checkpoint commit together. */
async function writePage(context: HubContext, job: StreamJob, prepared: PreparedPage, readId: string): Promise<void> {
  const { run, connection, stream, stats } = job;
  const { page } = prepared;
  return context.sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    // Not waiting for the WAL flush is safe: the checkpoint commits with the page, so a
    // page lost by a server crash is read again from the previous checkpoint.
    // Sent together, in this order, one round trip. Locking the run row means the reaper cannot
    // fail the run halfway through a page; the page's records are looked up meanwhile.
    const keys = prepared.records.map(({ record }) => record.externalId);
    const [, [owned], stored] = await Promise.all([
      tx`set local synchronous_commit = off`,
      tx`update hub.sync_runs set heartbeat_at = now() where id = ${run.id} and status = 'running' returning id`,
      keys.length === 0 ? [] : tx<StoredRecord[]>`
        select id, external_id, hash, last_seen_read, deleted_at from hub.source_records
        where connection_id = ${connection.id} and stream = ${stream.name} and external_id = any(${keys}::text[])`,
    ]);
    if (!owned) throw new RunLostError();

    const classified = await classify(tx, job, prepared, readId, stored);
    if (classified.updated.length > 0) {
      await tx`
        update hub.source_records as r
        set data = t.data, hash = t.hash, last_seen_read = ${readId}, updated_at = now(), deleted_at = null, deleted_in_source = false
        from rows from (unnest(${classified.updated.map(({ id }) => id)}::bigint[]), unnest(${classified.updated.map(({ item }) => item.hash)}::text[]),
                        jsonb_array_elements(${dataJson(classified.updated.map(({ item }) => item))}::text::jsonb)) as t(id, hash, data)
        where r.id = t.id`;
    }

    const factsByKind = new Map<FactKind, FactRow[]>();
    for (const written of [classified.inserted, classified.updated]) {
      for (const { item, id, facts } of written) {
        for (const fact of facts) {
          let rows = factsByKind.get(fact.kind);
          if (!rows) factsByKind.set(fact.kind, (rows = []));
          rows.push({ source_record_id: id, external_id: item.record.externalId, fields: fact.fields });
        }
      }
    }
    const scope = { workspaceId: connection.workspace_id, connectionId: connection.id };
    // Facts of records created by this page cannot exist yet: they are inserted, not upserted.
    const fresh = classified.updated.length === 0;
    // The rest of the page does not depend on its own results: sent at once, one round trip.
    const writes: Promise<unknown>[] = [...factsByKind].map(([kind, rows]) => upsertFacts(tx, scope, kind, rows, { fresh }));
    // A changed record that no longer states a kind of fact (e.g. its amount was cleared) loses that fact.
    for (const table of fresh ? [] : factTableList) {
      const stated = new Set((factsByKind.get(table.kind) ?? []).map((row) => row.source_record_id));
      const dropped = classified.updated.map(({ id }) => id).filter((id) => !stated.has(id));
      if (dropped.length > 0) writes.push(tombstoneFacts(tx, dropped, [table.kind]));
    }
    const seen = [...classified.unchanged, ...classified.kept];
    if (seen.length > 0) writes.push(tx`update hub.source_records set last_seen_read = ${readId} where id = any(${seen}::bigint[])`);
    if (classified.quarantine.length > 0) {
      writes.push(tx`
        insert into hub.quarantine (workspace_id, connection_id, sync_run_id, stream, external_id, line, reason, details, raw)
        select ${connection.workspace_id}, ${connection.id}, ${run.id}, ${stream.name}, t.external_id, t.line, t.reason, t.details, t.raw
        from jsonb_to_recordset(${tx.json(classified.quarantine.map((entry) => ({ external_id: entry.externalId ?? null, line: entry.line ?? null, reason: entry.reason, details: entry.details ?? null, raw: entry.raw ?? null })) as never)})
          as t(external_id text, line int, reason text, details jsonb, raw jsonb)`);
    }

    stats.read += page.records.length + (page.rejected?.length ?? 0);
    stats.inserted += classified.inserted.length;
    stats.updated += classified.updated.length;
    stats.unchanged += classified.unchanged.length;
    stats.quarantined += classified.quarantine.length;
    if (stream.mode === 'full') {
      writes.push(tx`update hub.stream_states set read_cursor = ${tx.json({ key: stream.readKey ?? null, checkpoint: page.checkpoint } as never)}, updated_at = now()
               where connection_id = ${connection.id} and stream = ${stream.name}`);
    } else {
      writes.push(tx`update hub.stream_states set cursor = ${tx.json(page.checkpoint as never)}, updated_at = now()
               where connection_id = ${connection.id} and stream = ${stream.name}`);
    }
    writes.push(saveStats(tx, run.id, stream.name, { ...stats }));
    await Promise.all(writes);
  });
}

interface StoredRecord {
  id: number;
  external_id: string;
  hash: string;
  last_seen_read: string | null;
  deleted_at: Date | null;
}

/** Sorts a page's records against their stored versions (`stored`), and inserts the new ones. */
async function classify(tx: Sql, job: StreamJob, prepared: PreparedPage, readId: string, stored: StoredRecord[]): Promise<Classified> {
  const { connection, stream } = job;
  const result: Classified = { inserted: [], updated: [], unchanged: [], kept: [], quarantine: [] };
  for (const rejected of prepared.page.rejected ?? []) result.quarantine.push(rejected);

  const existing = new Map(stored.map((row) => [row.external_id, { ...row, id: Number(row.id) }]));
  const fresh: { item: PreparedRecord; facts: Fact[] }[] = [];
  const seenInPage = new Map<string, number | undefined>();
  for (const item of prepared.records) {
    const { record } = item;
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
    if (previous && previous.hash === item.hash && !previous.deleted_at) {
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
    if (previous) result.updated.push({ item, id: previous.id, facts });
    else fresh.push({ item, facts });
  }
  if (fresh.length > 0) {
    // Looked up just before, in this transaction, and one sync per connection at a time: a plain
    // insert (an ON CONFLICT insert costs PostgreSQL nearly twice as much per row).
    const rows = await tx<{ id: number; external_id: string }[]>`
      insert into hub.source_records (workspace_id, connection_id, stream, external_id, data, hash, last_seen_read)
      select ${connection.workspace_id}, ${connection.id}, ${stream.name}, t.external_id, t.data, t.hash, ${readId}
      from rows from (unnest(${fresh.map(({ item }) => item.record.externalId)}::text[]), unnest(${fresh.map(({ item }) => item.hash)}::text[]),
                      jsonb_array_elements(${fresh.length === prepared.records.length ? prepared.json : dataJson(fresh.map(({ item }) => item))}::text::jsonb)) as t(external_id, hash, data)
      returning id, external_id`;
    const ids = new Map(rows.map((row) => [row.external_id, Number(row.id)]));
    for (const { item, facts } of fresh) result.inserted.push({ item, id: ids.get(item.record.externalId)!, facts });
  }
  return result;
}

const jsonArray = (jsons: string[]) => `[${jsons.join(',')}]`;
/** The data of some of a page's records (jsonb keeps no key order: plain JSON.stringify does). */
const dataJson = (items: PreparedRecord[]) => jsonArray(items.map(({ record }) => JSON.stringify(record.data)));

export { contentHash } from './hash.js';

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
