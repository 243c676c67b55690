import { z } from 'zod';
import type { Sql } from '../../db/index.js';
import type { HubContext } from '../context.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { emitEvent, enqueueDelivery, subscribed } from '../events/index.js';
import { decodeCursor, timeIdCursor, toPage, type PageRequest } from '../pagination.js';
import { decryptSecret, encryptSecret } from '../secrets.js';
import { checkUrlShape, RefusedUrlError } from './address-guard.js';
import { generateSecret } from './signature.js';

// Webhook endpoints: where a workspace's events go, with their signing secrets sealed at rest.

/** How long the previous secret keeps signing after a rotation. */
export const ROTATION_OVERLAP_HOURS = 24;

export interface EndpointRow {
  id: string;
  workspace_id: string;
  url: string;
  description: string | null;
  event_types: string[];
  enabled: boolean;
  status: 'healthy' | 'failing';
  disabled_reason: string | null;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
  last_success_at: Date | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export interface EndpointInput {
  url: string;
  description?: string | null;
  event_types?: string[];
  enabled?: boolean;
}

/** What the API shows of an endpoint: never its secret (that is shown once, on create and rotate). */
export function presentEndpoint(row: EndpointRow) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    event_types: row.event_types,
    enabled: row.enabled,
    status: row.status,
    disabled_reason: row.disabled_reason,
    failing_since: row.failing_since?.toISOString() ?? null,
    last_success_at: row.last_success_at?.toISOString() ?? null,
    previous_secret_expires_at: row.previous_secret_expires_at && row.previous_secret_expires_at > new Date() ? row.previous_secret_expires_at.toISOString() : null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function checkUrl(context: HubContext, url: string): string {
  try {
    return checkUrlShape(url, { allowHttp: context.config.HUB_ALLOW_HTTP_WEBHOOKS, allowPrivate: context.config.HUB_ALLOW_PRIVATE_WEBHOOKS }).href;
  } catch (error) {
    if (error instanceof RefusedUrlError) throw badRequest(error.message, [{ path: 'url', message: error.message }]);
    throw error;
  }
}

export async function createEndpoint(context: HubContext, workspaceId: string, input: EndpointInput): Promise<{ endpoint: EndpointRow; secret: string }> {
  const url = checkUrl(context, input.url);
  const secret = generateSecret();
  const [endpoint] = await context.sql<EndpointRow[]>`
    insert into hub.webhook_endpoints (workspace_id, url, description, event_types, enabled, secret_encrypted)
    values (${workspaceId}, ${url}, ${input.description ?? null}, ${input.event_types ?? []}, ${input.enabled ?? true}, ${encryptSecret(context.masterKey, secret)})
    returning *`;
  return { endpoint, secret };
}

export async function getEndpoint(context: HubContext, workspaceId: string, id: string, sql: Sql = context.sql): Promise<EndpointRow> {
  if (!z.uuid().safeParse(id).success) throw notFound(`Webhook endpoint ${id}`);
  const [row] = await sql<EndpointRow[]>`select * from hub.webhook_endpoints where id = ${id} and workspace_id = ${workspaceId} and deleted_at is null`;
  if (!row) throw notFound(`Webhook endpoint ${id}`);
  return row;
}

export async function listEndpoints(context: HubContext, workspaceId: string, page: PageRequest) {
  const after = decodeCursor(page.cursor, timeIdCursor);
  const { sql } = context;
  const rows = await sql<(EndpointRow & { sort_ts: string })[]>`
    select *, to_json(created_at)#>>'{}' as sort_ts from hub.webhook_endpoints
    where workspace_id = ${workspaceId} and deleted_at is null
      ${after ? sql`and (created_at, id) > (${after[0]}::text::timestamptz, ${after[1]}::uuid)` : sql``}
    order by created_at, id
    limit ${page.limit + 1}`;
  return toPage(rows, page.limit, (row) => [row.sort_ts, row.id], presentEndpoint);
}

export async function updateEndpoint(context: HubContext, workspaceId: string, id: string, patch: Partial<EndpointInput>): Promise<EndpointRow> {
  return context.sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    const current = await getEndpoint(context, workspaceId, id, tx);
    const url = patch.url === undefined ? current.url : checkUrl(context, patch.url);
    const enabled = patch.enabled ?? current.enabled;
    const [row] = await tx<EndpointRow[]>`
      update hub.webhook_endpoints
      set url = ${url}, description = ${patch.description === undefined ? current.description : patch.description},
          event_types = ${patch.event_types ?? current.event_types}, enabled = ${enabled},
          disabled_reason = ${enabled ? null : current.disabled_reason}, updated_at = now()
      where id = ${id}
      returning *`;
    if (!enabled) await cancelOpenDeliveries(tx, id);
    return row;
  });
}

/** Deleting keeps the endpoint's delivery history; what it had not yet received is cancelled. */
export async function deleteEndpoint(context: HubContext, workspaceId: string, id: string): Promise<void> {
  await context.sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    await getEndpoint(context, workspaceId, id, tx);
    await tx`update hub.webhook_endpoints set deleted_at = now(), enabled = false, updated_at = now() where id = ${id}`;
    await cancelOpenDeliveries(tx, id);
  });
}

/** A new secret, returned once; the previous one keeps signing (both signatures sent) for the overlap. */
export async function rotateSecret(context: HubContext, workspaceId: string, id: string): Promise<{ endpoint: EndpointRow; secret: string }> {
  await getEndpoint(context, workspaceId, id);
  const secret = generateSecret();
  const [endpoint] = await context.sql<EndpointRow[]>`
    update hub.webhook_endpoints
    set previous_secret_encrypted = secret_encrypted, previous_secret_expires_at = now() + make_interval(hours => ${ROTATION_OVERLAP_HOURS}),
        secret_encrypted = ${encryptSecret(context.masterKey, secret)}, updated_at = now()
    where id = ${id} and workspace_id = ${workspaceId}
    returning *`;
  return { endpoint, secret };
}

/** The secrets that sign a delivery now: the current one, and the previous one during a rotation. */
export function signingSecrets(context: HubContext, row: Pick<EndpointRow, 'secret_encrypted' | 'previous_secret_encrypted' | 'previous_secret_expires_at'>, now = new Date()): string[] {
  const secrets = [decryptSecret(context.masterKey, row.secret_encrypted) as string];
  if (row.previous_secret_encrypted && row.previous_secret_expires_at && row.previous_secret_expires_at > now) {
    secrets.push(decryptSecret(context.masterKey, row.previous_secret_encrypted) as string);
  }
  return secrets;
}

/**
 * Re-sends to one endpoint every event it subscribes to since a time, oldest first.
 * `since` is an ISO timestamp, handed to PostgreSQL as text so its microseconds count.
 */
export async function replayEndpoint(context: HubContext, workspaceId: string, id: string, since: string): Promise<{ events: number }> {
  const endpoint = await getEndpoint(context, workspaceId, id);
  if (!endpoint.enabled) throw conflict('endpoint_disabled', 'This endpoint is disabled: enable it (PATCH {"enabled": true}) before replaying events to it.');
  const { sql } = context;
  const [{ events }] = await sql<{ events: number }[]>`
    with deliveries as (
      insert into hub.webhook_deliveries (workspace_id, event_id, endpoint_id, subject, trigger)
      select event.workspace_id, event.id, endpoint.id, event.subject, 'replay'
      from hub.events event join hub.webhook_endpoints endpoint on endpoint.id = ${id}
      where event.workspace_id = ${workspaceId} and event.created_at >= ${since}::text::timestamptz and ${subscribed(sql)}
      order by event.created_at, event.id
      returning id
    ), jobs as (select ${enqueueDelivery(sql, sql`deliveries.id`)} from deliveries)
    select count(*)::int as events from jobs`;
  return { events };
}

/** The endpoint stops: it answered 410 Gone. Its open deliveries are cancelled and an event says so. */
export async function disableEndpoint(tx: Sql, endpointId: string, reason: string): Promise<void> {
  const [row] = await tx<EndpointRow[]>`
    update hub.webhook_endpoints set enabled = false, disabled_reason = ${reason}, updated_at = now()
    where id = ${endpointId} and enabled
    returning *`;
  if (!row) return;
  await cancelOpenDeliveries(tx, endpointId);
  await emitEvent(tx, { workspaceId: row.workspace_id, type: 'webhook_endpoint.disabled', subject: `webhook_endpoint:${row.id}`, data: { endpoint: presentEndpoint(row), reason } });
}

/**
 * Every delivery of a retry window failed and nothing succeeded meanwhile: the endpoint is
 * marked failing (once) and an event says so. It keeps receiving new events; a success heals it.
 */
export async function markFailing(tx: Sql, endpointId: string, windowStart: Date, lastError: string | null): Promise<void> {
  const [row] = await tx<EndpointRow[]>`
    update hub.webhook_endpoints set status = 'failing', failing_since = ${windowStart}, updated_at = now()
    where id = ${endpointId} and status = 'healthy' and (last_success_at is null or last_success_at < ${windowStart})
    returning *`;
  if (!row) return;
  await emitEvent(tx, {
    workspaceId: row.workspace_id,
    type: 'webhook_endpoint.failing',
    subject: `webhook_endpoint:${row.id}`,
    data: { endpoint: presentEndpoint(row), failing_since: windowStart.toISOString(), last_error: lastError },
  });
}

async function cancelOpenDeliveries(tx: Sql, endpointId: string): Promise<void> {
  await tx`update hub.webhook_deliveries set status = 'cancelled', completed_at = now(), claimed_until = null
           where endpoint_id = ${endpointId} and status in ('pending', 'waiting', 'throttled')`;
}
