import type { Sql } from '../../db/index.js';
import type { HubContext } from '../context.js';
import { enqueueDelivery, getEventRow, subscribed } from '../events/index.js';
import { decodeCursor, idCursor, toPage, type PageRequest } from '../pagination.js';
import { systemResolver, type Resolver } from './address-guard.js';
import { disableEndpoint, getEndpoint, markFailing, signingSecrets } from './endpoints.js';
import { nextRetryDelayMs } from './schedule.js';
import { sendWebhook, type SendResult } from './send.js';
import { webhookHeaders } from './signature.js';

// Delivery of one event to one endpoint, one attempt per job run:
//   claim (ordering and in-flight cap checked under the endpoint's lock) → POST → record.
// A delivery may be sent only when no earlier delivery of its subject to that endpoint is
// still open, and while the endpoint has fewer than HUB_WEBHOOK_ENDPOINT_CONCURRENCY requests
// in flight; otherwise it waits and is woken, in order, when one finishes. A failed attempt
// schedules the next with its own job, so a failing endpoint never holds a worker or a queue.

/** A claim outlives the request timeout by this much before the delivery is presumed lost with its worker. */
const CLAIM_MARGIN_SECONDS = 5;

interface ClaimedDelivery {
  id: number;
  workspace_id: string;
  endpoint_id: string;
  event_id: string;
  subject: string | null;
  attempts: number;
  created_at: Date;
  url: string;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
  type: string;
  data: unknown;
  event_created_at: Date;
}

const resolvers = new WeakMap<HubContext, Resolver>();

/** Tests point host names wherever they like (e.g. a name that resolves to 10.0.0.1). */
export function useWebhookResolver(context: HubContext, resolve: Resolver): void {
  resolvers.set(context, resolve);
}

/** The Standard Webhooks payload: a stable type, when it happened, and the data. */
export function webhookBody(event: { type: string; created_at: Date; data: unknown }): string {
  return JSON.stringify({ type: event.type, timestamp: event.created_at.toISOString(), data: event.data });
}

/** One attempt of one delivery (the graphile-worker task body). */
export async function attemptDelivery(context: HubContext, deliveryId: number): Promise<void> {
  const delivery = await claim(context, deliveryId);
  if (!delivery) return;
  const body = webhookBody({ type: delivery.type, created_at: delivery.event_created_at, data: delivery.data });
  // A fresh timestamp per attempt: receivers reject old ones; the id stays so they can dedupe.
  const timestamp = Math.floor(Date.now() / 1000);
  const result = await sendWebhook({
    url: delivery.url,
    body,
    headers: webhookHeaders(signingSecrets(context, delivery), delivery.event_id, timestamp, body),
    policy: { allowHttp: context.config.HUB_ALLOW_HTTP_WEBHOOKS, allowPrivate: context.config.HUB_ALLOW_PRIVATE_WEBHOOKS },
    resolve: resolvers.get(context) ?? systemResolver,
    timeoutMs: context.config.HUB_WEBHOOK_TIMEOUT_SECONDS * 1000,
  });
  await record(context, delivery, result);
}

/** Serialises claims and completions of one endpoint's deliveries (ordering, in-flight cap). */
const lockEndpoint = (tx: Sql, endpointId: string) => tx`select pg_advisory_xact_lock(hashtextextended(${`webhook_endpoint:${endpointId}`}, 0))`;

async function claim(context: HubContext, deliveryId: number): Promise<ClaimedDelivery | null> {
  const cap = context.config.HUB_WEBHOOK_ENDPOINT_CONCURRENCY;
  return context.sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    const [target] = await tx<{ endpoint_id: string }[]>`select endpoint_id from hub.webhook_deliveries where id = ${deliveryId}`;
    if (!target) return null;
    await lockEndpoint(tx, target.endpoint_id);
    const [row] = await tx<(ClaimedDelivery & { status: string; enabled: boolean; blocked: boolean; in_flight: number })[]>`
      select d.id, d.workspace_id, d.endpoint_id, d.event_id, d.subject, d.attempts, d.created_at, d.status,
             e.url, e.enabled and e.deleted_at is null as enabled, e.secret_encrypted, e.previous_secret_encrypted, e.previous_secret_expires_at,
             ev.type, ev.data, ev.created_at as event_created_at,
             exists (select 1 from hub.webhook_deliveries p
                     where p.endpoint_id = d.endpoint_id and p.subject = d.subject and p.id < d.id and p.status in ('pending', 'sending', 'waiting')) as blocked,
             (select count(*)::int from hub.webhook_deliveries f
              where f.endpoint_id = d.endpoint_id and f.status = 'sending' and f.claimed_until > now()) as in_flight
      from hub.webhook_deliveries d
      join hub.webhook_endpoints e on e.id = d.endpoint_id
      join hub.events ev on ev.id = d.event_id
      where d.id = ${deliveryId}
      for update of d`;
    if (!row || row.status !== 'pending') return null; // done, cancelled, or a stale duplicate job
    if (!row.enabled) {
      await tx`update hub.webhook_deliveries set status = 'cancelled', completed_at = now() where id = ${row.id}`;
      return null;
    }
    if (row.blocked || row.in_flight >= cap) {
      await tx`update hub.webhook_deliveries set status = 'waiting' where id = ${row.id}`;
      return null;
    }
    await tx`update hub.webhook_deliveries set status = 'sending', claimed_until = now() + make_interval(secs => ${context.config.HUB_WEBHOOK_TIMEOUT_SECONDS + CLAIM_MARGIN_SECONDS})
             where id = ${row.id}`;
    return row;
  });
}

async function record(context: HubContext, delivery: ClaimedDelivery, result: SendResult): Promise<void> {
  const attempt = delivery.attempts + 1;
  await context.sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    await lockEndpoint(tx, delivery.endpoint_id);
    await tx`
      insert into hub.webhook_attempts (delivery_id, endpoint_id, attempt, url, outcome, status_code, error, latency_ms, response_snippet)
      values (${delivery.id}, ${delivery.endpoint_id}, ${attempt}, ${delivery.url}, ${result.outcome}, ${result.statusCode}, ${result.error}, ${result.latencyMs}, ${result.snippet})`;
    const [current] = await tx<{ status: string }[]>`select status from hub.webhook_deliveries where id = ${delivery.id} for update`;
    // Cancelled meanwhile (endpoint disabled or deleted) or taken over after a lost claim: the attempt is logged, the state is not ours.
    if (current?.status !== 'sending') return;

    const outcome = { attempts: attempt, last_status_code: result.statusCode, last_error: result.error };
    if (result.outcome === 'succeeded') {
      await finish(tx, delivery.id, 'succeeded', outcome);
      await tx`update hub.webhook_endpoints set last_success_at = now(), status = 'healthy', failing_since = null where id = ${delivery.endpoint_id}`;
    } else if (result.statusCode === 410) {
      await finish(tx, delivery.id, 'failed', outcome);
      await disableEndpoint(tx, delivery.endpoint_id, `The endpoint answered 410 Gone on ${new Date().toISOString()}: the hub stopped sending to it. Enable it again with PATCH {"enabled": true}.`);
    } else {
      const delayMs = nextRetryDelayMs(attempt, { scale: context.config.HUB_WEBHOOK_RETRY_SCALE, retryAfterMs: result.retryAfterMs });
      if (delayMs === null) {
        await finish(tx, delivery.id, 'failed', outcome);
        await markFailing(tx, delivery.endpoint_id, delivery.created_at, result.error);
      } else {
        await tx`
          with retry as (
            update hub.webhook_deliveries
            set status = 'pending', claimed_until = null, attempts = ${attempt}, last_status_code = ${result.statusCode}, last_error = ${result.error},
                next_attempt_at = now() + make_interval(secs => ${delayMs / 1000})
            where id = ${delivery.id}
            returning id, next_attempt_at
          )
          select ${enqueueDelivery(tx, tx`retry.id`, tx`retry.next_attempt_at`)} from retry`;
      }
    }
    await wakeWaiting(tx, delivery.endpoint_id, context.config.HUB_WEBHOOK_ENDPOINT_CONCURRENCY);
  });
}

async function finish(tx: Sql, id: number, status: 'succeeded' | 'failed', outcome: { attempts: number; last_status_code: number | null; last_error: string | null }): Promise<void> {
  await tx`
    update hub.webhook_deliveries
    set status = ${status}, completed_at = now(), claimed_until = null, next_attempt_at = null,
        attempts = ${outcome.attempts}, last_status_code = ${outcome.last_status_code}, last_error = ${outcome.last_error}
    where id = ${id}`;
}

/**
 * Gives a job back to waiting deliveries that may go now: no earlier open delivery of their
 * subject, oldest first, as many as the endpoint has free in-flight slots. Call under lockEndpoint.
 */
async function wakeWaiting(tx: Sql, endpointId: string, cap: number): Promise<void> {
  await tx`
    with free as (
      select greatest(0, ${cap} - count(*))::int as slots from hub.webhook_deliveries
      where endpoint_id = ${endpointId} and status = 'sending' and claimed_until > now()
    ), ready as (
      select d.id from hub.webhook_deliveries d
      where d.endpoint_id = ${endpointId} and d.status = 'waiting'
        and not exists (select 1 from hub.webhook_deliveries p
                        where p.endpoint_id = d.endpoint_id and p.subject = d.subject and p.id < d.id and p.status in ('pending', 'sending', 'waiting'))
      order by d.id
      limit (select slots from free)
    ), woken as (
      update hub.webhook_deliveries d set status = 'pending' from ready where d.id = ready.id returning d.id
    )
    select ${enqueueDelivery(tx, tx`woken.id`)} from woken`;
}

/**
 * Deliveries whose worker died mid-request (claim expired) are queued again, and endpoints with
 * free slots wake their waiting line. Runs at worker start and every minute.
 */
export async function recoverDeliveries(context: HubContext): Promise<number> {
  const { sql } = context;
  const stalled = await sql<{ id: number }[]>`
    with stalled as (
      update hub.webhook_deliveries set status = 'pending', claimed_until = null
      where status = 'sending' and claimed_until < now()
      returning id
    )
    select id, ${enqueueDelivery(sql, sql`stalled.id`)} from stalled`;
  const endpoints = await sql<{ endpoint_id: string }[]>`select distinct endpoint_id from hub.webhook_deliveries where status = 'waiting'`;
  for (const { endpoint_id } of endpoints) {
    await sql.begin(async (transaction) => {
      const tx = transaction as unknown as Sql;
      await lockEndpoint(tx, endpoint_id);
      await wakeWaiting(tx, endpoint_id, context.config.HUB_WEBHOOK_ENDPOINT_CONCURRENCY);
    });
  }
  return stalled.length;
}

/** Sends an event again: to one endpoint of the workspace, or to every enabled endpoint subscribed to it. */
export async function redeliverEvent(context: HubContext, workspaceId: string, eventId: string, endpointId?: string): Promise<DeliveryRow[]> {
  const event = await getEventRow(context, workspaceId, eventId);
  if (endpointId) await getEndpoint(context, workspaceId, endpointId);
  const { sql } = context;
  const created = await sql<{ id: number }[]>`
    with event as (select id, workspace_id, type, subject from hub.events where id = ${event.id}),
    deliveries as (
      insert into hub.webhook_deliveries (workspace_id, event_id, endpoint_id, subject, trigger)
      select event.workspace_id, event.id, endpoint.id, event.subject, 'redeliver'
      from event join hub.webhook_endpoints endpoint on endpoint.workspace_id = event.workspace_id
      where endpoint.enabled and endpoint.deleted_at is null
        and ${endpointId ? sql`endpoint.id = ${endpointId}` : subscribed(sql)}
      order by endpoint.id
      returning id
    )
    select id, ${enqueueDelivery(sql, sql`deliveries.id`)} from deliveries`;
  if (created.length === 0) return [];
  return sql<DeliveryRow[]>`select * from hub.webhook_deliveries where id = any(${created.map((row) => row.id)}::bigint[]) order by id`;
}

export interface DeliveryRow {
  id: number;
  workspace_id: string;
  event_id: string;
  endpoint_id: string;
  subject: string | null;
  trigger: 'event' | 'replay' | 'redeliver';
  status: 'pending' | 'sending' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
  attempts: number;
  next_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  completed_at: Date | null;
}

interface AttemptRow {
  delivery_id: number;
  attempt: number;
  url: string;
  outcome: 'succeeded' | 'failed' | 'refused';
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  response_snippet: string | null;
  attempted_at: Date;
}

export function presentDelivery(row: DeliveryRow, attempts: AttemptRow[] = []) {
  return {
    id: String(row.id),
    event_id: row.event_id,
    endpoint_id: row.endpoint_id,
    trigger: row.trigger,
    status: row.status,
    attempt_count: row.attempts,
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at?.toISOString() ?? null : null,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    created_at: row.created_at.toISOString(),
    completed_at: row.completed_at?.toISOString() ?? null,
    attempts: attempts.map((attempt) => ({
      attempt: attempt.attempt,
      attempted_at: attempt.attempted_at.toISOString(),
      url: attempt.url,
      outcome: attempt.outcome,
      status_code: attempt.status_code,
      error: attempt.error,
      latency_ms: attempt.latency_ms,
      response_snippet: attempt.response_snippet,
    })),
  };
}

/** The deliveries of one event (every endpoint, every trigger), each with every attempt. */
export async function listEventDeliveries(context: HubContext, workspaceId: string, eventId: string, page: PageRequest) {
  const event = await getEventRow(context, workspaceId, eventId);
  const after = decodeCursor(page.cursor, idCursor);
  const { sql } = context;
  const rows = await sql<DeliveryRow[]>`
    select * from hub.webhook_deliveries
    where event_id = ${event.id} and workspace_id = ${workspaceId} ${after ? sql`and id > ${after[0]}` : sql``}
    order by id
    limit ${page.limit + 1}`;
  const ids = rows.slice(0, page.limit).map((row) => row.id);
  const attempts = ids.length === 0 ? [] : await sql<AttemptRow[]>`
    select * from hub.webhook_attempts where delivery_id = any(${ids}::bigint[]) order by delivery_id, id`;
  const byDelivery = new Map<number, AttemptRow[]>();
  for (const attempt of attempts) byDelivery.set(Number(attempt.delivery_id), [...(byDelivery.get(Number(attempt.delivery_id)) ?? []), attempt]);
  return toPage(rows, page.limit, (row) => [Number(row.id)], (row) => presentDelivery(row, byDelivery.get(Number(row.id))));
}
