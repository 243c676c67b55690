import { z } from 'zod';
import type { HubContext } from '../context.js';
import { badRequest, HubError, notFound } from '../errors.js';
import { decodeCursor, timeIdCursor, toPage, type PageRequest } from '../pagination.js';
import { decryptSecret, encryptSecret } from '../secrets.js';
import type { Connector } from '../ingest/contract.js';
import { createHttpClient } from '../ingest/http.js';
import { findFile } from '../files/index.js';
import { factsChanged } from '../ingest/changes.js';
import { factTableList } from '../ingest/facts.js';
import type { Sql } from '../../db/index.js';

export const scheduleSchema = z
  .object({ every_minutes: z.number().int().min(5).max(7 * 24 * 60).describe('Start a sync this many minutes after the last one was requested.') })
  .strict();

export interface ConnectionRow {
  id: string;
  workspace_id: string;
  kind: string;
  name: string;
  config: Record<string, unknown>;
  credentials_encrypted: string | null;
  schedule: string | null;
  status: 'active' | 'needs_reauth' | 'failing';
  status_message: string | null;
  created_at: Date;
  updated_at: Date;
}

/** What the API shows of a connection: never the credentials, only whether there are some. */
export function presentConnection(row: ConnectionRow) {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    config: row.config,
    schedule: row.schedule ? (JSON.parse(row.schedule) as z.infer<typeof scheduleSchema>) : null,
    status: row.status,
    status_message: row.status_message,
    has_credentials: row.credentials_encrypted !== null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function connectorOf(context: HubContext, kind: string): Connector {
  const connector = context.connectors[kind];
  if (!connector) throw badRequest(`Unknown connector kind "${kind}". Known kinds: ${Object.keys(context.connectors).join(', ')}.`);
  return connector;
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest(`The ${what} is not valid: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || what}: ${issue.message}`).join('; ')}.`, parsed.error.issues);
  return parsed.data;
}

export interface ConnectionInput {
  kind: string;
  name: string;
  config?: unknown;
  credentials?: unknown;
  schedule?: z.infer<typeof scheduleSchema> | null;
}

export async function createConnection(context: HubContext, workspaceId: string, input: ConnectionInput) {
  const connector = connectorOf(context, input.kind);
  const config = validate(connector.configSchema, input.config ?? {}, 'config');
  const sealed = sealCredentials(context, connector, input.credentials);
  const [row] = await context.sql<ConnectionRow[]>`
    insert into hub.connections (workspace_id, kind, name, config, credentials_encrypted, schedule)
    values (${workspaceId}, ${input.kind}, ${input.name}, ${context.sql.json(config as never)}, ${sealed}, ${input.schedule ? JSON.stringify(input.schedule) : null})
    returning *`;
  return row;
}

function sealCredentials(context: HubContext, connector: Connector, credentials: unknown): string | null {
  if (credentials === undefined || credentials === null) return null;
  if (!connector.credentialsSchema) throw badRequest(`The ${connector.kind} connector takes no credentials.`);
  return encryptSecret(context.masterKey, validate(connector.credentialsSchema, credentials, 'credentials'));
}

export async function getConnection(context: HubContext, workspaceId: string, id: string): Promise<ConnectionRow> {
  if (!z.uuid().safeParse(id).success) throw notFound(`Connection ${id}`);
  const [row] = await context.sql<ConnectionRow[]>`
    select * from hub.connections where id = ${id} and workspace_id = ${workspaceId} and deleted_at is null`;
  if (!row) throw notFound(`Connection ${id}`);
  return row;
}

export async function listConnections(context: HubContext, workspaceId: string, page: PageRequest) {
  const after = decodeCursor(page.cursor, timeIdCursor);
  const rows = await context.sql<(ConnectionRow & { sort_ts: string })[]>`
    select *, to_json(created_at)#>>'{}' as sort_ts from hub.connections
    where workspace_id = ${workspaceId} and deleted_at is null
      ${after ? context.sql`and (created_at, id) > (${after[0]}::text::timestamptz, ${after[1]}::uuid)` : context.sql``}
    order by created_at, id
    limit ${page.limit + 1}`;
  return toPage(rows, page.limit, (row) => [row.sort_ts, row.id], presentConnection);
}

export async function updateConnection(context: HubContext, workspaceId: string, id: string, patch: Partial<Omit<ConnectionInput, 'kind'>>) {
  const current = await getConnection(context, workspaceId, id);
  const connector = connectorOf(context, current.kind);
  const config = patch.config === undefined ? current.config : validate(connector.configSchema, patch.config, 'config');
  const sealed = patch.credentials === undefined ? current.credentials_encrypted : sealCredentials(context, connector, patch.credentials);
  const schedule = patch.schedule === undefined ? current.schedule : patch.schedule ? JSON.stringify(patch.schedule) : null;
  // New credentials are the owner's answer to needs_reauth: the connection is active again.
  const status = patch.credentials !== undefined ? 'active' : current.status;
  const [row] = await context.sql<ConnectionRow[]>`
    update hub.connections
    set name = ${patch.name ?? current.name}, config = ${context.sql.json(config as never)}, credentials_encrypted = ${sealed},
        schedule = ${schedule}, status = ${status}, status_message = ${status === 'active' ? null : current.status_message}, updated_at = now()
    where id = ${id} and workspace_id = ${workspaceId}
    returning *`;
  return row;
}

/** Deleting a connection keeps its history: its records and facts become tombstones, never hard deletes. */
export async function deleteConnection(context: HubContext, workspaceId: string, id: string): Promise<void> {
  await getConnection(context, workspaceId, id);
  await context.sql.begin(async (tx) => {
    const [active] = await tx`select id from hub.sync_runs where connection_id = ${id} and status in ('queued', 'running')`;
    if (active) throw new HubError('sync_in_progress', 409, 'A sync of this connection is running; wait for it to finish before deleting the connection.', { sync_run_id: active.id });
    await tx`update hub.connections set deleted_at = now() where id = ${id}`;
    await tx`update hub.source_records set deleted_at = now() where connection_id = ${id} and deleted_at is null`;
    for (const table of factTableList) {
      const gone = await tx.unsafe<{ source_record_id: number }[]>(
        `update ${table.qualifiedName} set deleted_at = now(), updated_at = now() where connection_id = $1 and deleted_at is null returning source_record_id`, [id]);
      // Golden records lose these links (and rollups these facts) through the derive job.
      await factsChanged(tx as unknown as Sql, workspaceId, table.kind, gone.map((row) => Number(row.source_record_id)));
    }
  });
}


export function openCredentials(context: HubContext, row: ConnectionRow): unknown {
  return row.credentials_encrypted ? decryptSecret(context.masterKey, row.credentials_encrypted) : undefined;
}

export async function checkConnection(context: HubContext, workspaceId: string, id: string) {
  const row = await getConnection(context, workspaceId, id);
  const connector = connectorOf(context, row.kind);
  const controller = new AbortController();
  const result = await connector.check({
    config: row.config,
    credentials: openCredentials(context, row),
    http: createHttpClient({ signal: controller.signal, policy: { retries: 2 } }),
    file: connector.readsFiles ? await findFile(context, row.id) : undefined,
    batchSize: context.config.HUB_SYNC_BATCH_SIZE,
    signal: controller.signal,
    note: () => {},
  });
  return { ok: true, message: result.message, details: result.details ?? null };
}
