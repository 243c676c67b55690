import type { Sql } from '../../db/index.js';
import { asJson, copyRows } from '../../db/copy.js';
import { emitEvent, enqueueDelivery, isEventType, newEventId, subscribed, type EventInput } from './index.js';

// Many events from one change (a full reconcile of a workspace creates one per customer):
// the same outbox rows emitEvent writes, in bulk, in the caller's transaction.

const BULK_FROM = 50;

export async function emitEvents(sql: Sql, events: EventInput[]): Promise<void> {
  if (events.length < BULK_FROM) {
    for (const event of events) await emitEvent(sql, event);
    return;
  }
  for (const event of events) if (!isEventType(event.type)) throw new Error(`Unknown event type "${event.type}".`);
  const ids = events.map(() => newEventId());
  await copyRows(sql, 'hub.events', ['id', 'workspace_id', 'type', 'subject', 'data'],
    events.map((event, index) => [ids[index], event.workspaceId, event.type, event.subject ?? null, asJson(event.data ?? null) ?? 'null']));
  // Most bulk emitters (a workspace's first reconcile) have no endpoint to deliver to yet.
  const workspaces = [...new Set(events.map((event) => event.workspaceId))];
  const [{ endpoints }] = await sql<{ endpoints: boolean }[]>`
    select exists (select 1 from hub.webhook_endpoints where workspace_id = any(${workspaces}::uuid[]) and enabled and deleted_at is null) as endpoints`;
  if (!endpoints) return;
  await sql`
    with deliveries as (
      insert into hub.webhook_deliveries (workspace_id, event_id, endpoint_id, subject, trigger)
      select endpoint.workspace_id, event.id, endpoint.id, event.subject, 'event'
      from unnest(${ids}::text[]) with ordinality as emitted(id, position)
      join hub.events event on event.id = emitted.id
      join hub.webhook_endpoints endpoint on endpoint.workspace_id = event.workspace_id
      where endpoint.enabled and endpoint.deleted_at is null and ${subscribed(sql)}
      order by emitted.position, endpoint.id
      returning id
    )
    select ${enqueueDelivery(sql, sql`deliveries.id`)} from deliveries`;
}
