import type { Fragment, TransactionSql } from 'postgres';
import type { Sql } from '../../db/index.js';
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
 * the same delivery (e.g. waking it after the delivery it waited for) a no-op.
 */
export function enqueueDelivery(sql: Sql, deliveryId: Fragment, runAt?: Fragment) {
  return sql`graphile_worker.add_job(
    ${WEBHOOK_DELIVERY_TASK}, json_build_object('delivery_id', ${deliveryId}),
    run_at => ${runAt ?? sql`now()`}, job_key => ${'webhook_delivery:'}::text || ${deliveryId}, max_attempts => 10)`;
}
