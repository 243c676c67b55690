import type { Fragment, TransactionSql } from 'postgres';
import { z } from 'zod';
import type { Sql } from '../../db/index.js';
import type { HubContext } from '../context.js';
import { notFound } from '../errors.js';
import { decodeCursor, toPage, type PageRequest } from '../pagination.js';
import { randomBase62 } from '../secrets.js';

// The outbox. A change calls emitEvent inside its own transaction: the event row, one
// delivery per subscribed endpoint and the graphile-worker job of each delivery commit
// (or roll back) together with the change. src/core/webhooks/ sends them.

export const EVENT_TYPES = [
  'customer.created',
  'customer.updated',
  'customer.merged',
  'customer.split',
  'organization.created',
  'organization.updated',
  'organization.merged',
  'organization.split',
  'metrics.updated',
  'sync_run.completed',
  'sync_run.failed',
  'connection.needs_reauth',
  'webhook_endpoint.failing',
  'webhook_endpoint.disabled',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export interface EventInput {
  workspaceId: string;
  type: string;
  data: unknown;
  /** ordering key, e.g. `customer:<id>`; events with the same key go to an endpoint in order */
  subject?: string;
}

/** The graphile-worker task that sends one delivery; its payload is {delivery_id}. */
export const WEBHOOK_DELIVERY_TASK = 'webhook_delivery';

/** Event ids double as the Standard Webhooks `webhook-id`: stable across retries, replays and redeliveries. */
export const newEventId = () => `msg_${randomBase62(27)}`;

export const isEventType = (type: string): type is EventType => (EVENT_TYPES as readonly string[]).includes(type);

/**
 * Writes the event to the outbox inside the caller's transaction (`sql` may be a postgres.js
 * TransactionSql or Sql) and enqueues deliveries (graphile_worker.add_job in the same tx) for
 * every enabled endpoint of that workspace whose filter matches. Returns the event id.
 */
export async function emitEvent(sql: Sql | TransactionSql, event: EventInput): Promise<string> {
  if (!isEventType(event.type)) throw new Error(`Unknown event type "${event.type}": add it to EVENT_TYPES in src/core/events/index.ts.`);
  const tx = sql as Sql;
  const id = newEventId();
  await tx`
    with event as (
      insert into hub.events (id, workspace_id, type, subject, data)
      values (${id}, ${event.workspaceId}, ${event.type}, ${event.subject ?? null}, ${tx.json((event.data ?? null) as never)})
      returning id, workspace_id, type, subject
    ), deliveries as (
      insert into hub.webhook_deliveries (workspace_id, event_id, endpoint_id, subject, trigger)
      select endpoint.workspace_id, event.id, endpoint.id, event.subject, 'event'
      from event join hub.webhook_endpoints endpoint on endpoint.workspace_id = event.workspace_id
      where endpoint.enabled and endpoint.deleted_at is null and ${subscribed(tx)}
      order by endpoint.id
      returning id
    )
    select ${enqueueDelivery(tx, tx`deliveries.id`)} from deliveries`;
  return id;
}

/** SQL condition: `endpoint` subscribes to `event` (no filter, the exact type, or `group.*`). */
export function subscribed(sql: Sql) {
  return sql`(cardinality(endpoint.event_types) = 0 or event.type = any(endpoint.event_types) or split_part(event.type, '.', 1) || '.*' = any(endpoint.event_types))`;
}

/**
 * SQL expression that queues the job of one delivery. The job key makes a second enqueue of
 * the same delivery (e.g. waking it after the delivery it waited for) a no-op. A delivery that
 * was already in line (`resumed`: woken, retried, recovered) goes before newly emitted ones,
 * which would mostly find their subject busy behind it.
 */
export function enqueueDelivery(sql: Sql, deliveryId: Fragment, runAt?: Fragment, resumed = false) {
  return sql`graphile_worker.add_job(
    ${WEBHOOK_DELIVERY_TASK}, json_build_object('delivery_id', ${deliveryId}),
    run_at => ${runAt ?? sql`now()`}, job_key => ${'webhook_delivery:'}::text || ${deliveryId}, max_attempts => 10,
    priority => ${resumed ? -1 : 0})`;
}

/** An endpoint's filter entry: an event type, or `group.*` for every type of a group. */
export function isEventFilter(entry: string): boolean {
  if (isEventType(entry)) return true;
  return entry.endsWith('.*') && EVENT_TYPES.some((type) => type.startsWith(entry.slice(0, -1)));
}

export interface EventRow {
  id: string;
  workspace_id: string;
  type: string;
  subject: string | null;
  data: unknown;
  created_at: Date;
}

/** What the API shows of an event: the same envelope a webhook carries, plus its id and subject. */
export function presentEvent(row: EventRow) {
  return { id: row.id, type: row.type, subject: row.subject, timestamp: row.created_at.toISOString(), data: row.data };
}

const eventIdSchema = z.string().regex(/^msg_[0-9A-Za-z]{27}$/);

export async function getEventRow(context: HubContext, workspaceId: string, id: string): Promise<EventRow> {
  if (!eventIdSchema.safeParse(id).success) throw notFound(`Event ${id}`);
  const [row] = await context.sql<EventRow[]>`select * from hub.events where id = ${id} and workspace_id = ${workspaceId}`;
  if (!row) throw notFound(`Event ${id}`);
  return row;
}

const eventCursor = z.tuple([z.iso.datetime({ offset: true }), eventIdSchema]);

/** Events of a workspace, newest first, optionally of one type (or `group.*`) and since a time. */
export async function listEvents(context: HubContext, workspaceId: string, filter: { type?: string; since?: string }, page: PageRequest) {
  const after = decodeCursor(page.cursor, eventCursor);
  const { sql } = context;
  const type = filter.type?.endsWith('.*') ? sql`and split_part(type, '.', 1) = ${filter.type.slice(0, -2)}` : filter.type ? sql`and type = ${filter.type}` : sql``;
  const rows = await sql<(EventRow & { sort_ts: string })[]>`
    select *, to_json(created_at)#>>'{}' as sort_ts from hub.events
    where workspace_id = ${workspaceId} ${type}
      ${filter.since ? sql`and created_at >= ${filter.since}::text::timestamptz` : sql``}
      ${after ? sql`and (created_at, id) < (${after[0]}::text::timestamptz, ${after[1]})` : sql``}
    order by created_at desc, id desc
    limit ${page.limit + 1}`;
  return toPage(rows, page.limit, (row) => [row.sort_ts, row.id], presentEvent);
}
