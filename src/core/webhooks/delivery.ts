import type { Sql } from '../../db/index.js';
import type { HubContext } from '../context.js';
import { enqueueDelivery, getEventRow, subscribed } from '../events/index.js';
import { decodeCursor, idCursor, toPage, type PageRequest } from '../pagination.js';
import { systemResolver, type Resolver } from './address-guard.js';
import { disableEndpoint, getEndpoint, markFailing, signingSecrets } from './endpoints.js';
import { nextRetryDelayMs } from './schedule.js';
import { sendWebhook, type SendResult } from './send.js';
import { webhookHeaders } from './signature.js';

// Delivery of one event to one endpoint, one attempt per job run: claim → POST → record.
//
// Order: a delivery is sent only when no earlier delivery of its subject to that endpoint is
// still open; otherwise it waits. Fairness: an endpoint has at most
// HUB_WEBHOOK_ENDPOINT_CONCURRENCY requests in flight; a delivery over the cap is throttled.
// So one slow receiver cannot take every worker, and different subjects never wait on each other.
// No lock is held across steps, and no wake is lost: each side commits its own state first
// and only then looks at the other's. A waiting or throttled delivery checks again after
// committing that state; a delivery that ends wakes the next of its subject and the oldest
// throttled ones after committing its end. Whichever looks second sees the other. Under load
// a slot goes straight from a delivery that ends to the oldest throttled one, in the same job.
// A failed attempt schedules the next with its own job: a failing endpoint holds no worker.
//
// These statements commit without waiting for the WAL flush: losing one in a crash only means
// sending again (at-least-once, same webhook-id), since the job that ran it is deleted by a
// later synchronous commit, which flushes this one too.

/** A claim outlives the request timeout by this much before the delivery is presumed lost with its worker. */
const CLAIM_MARGIN_SECONDS = 5;

const OPEN = ['pending', 'sending', 'waiting', 'throttled'];

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

/** How many deliveries one job sends at most by passing its slot on (see record). */
const HAND_OVERS_PER_JOB = 50;

/**
 * One attempt of one delivery (the graphile-worker task body); then, while the endpoint has
 * throttled deliveries, the next of them on the same slot.
 */
export async function attemptDelivery(context: HubContext, deliveryId: number): Promise<void> {
  let delivery = await claim(context, deliveryId);
  for (let sent = 1; delivery; sent++) {
    delivery = await record(context, delivery, await send(context, delivery), sent < HAND_OVERS_PER_JOB);
  }
}

function send(context: HubContext, delivery: ClaimedDelivery): Promise<SendResult> {
  const body = webhookBody({ type: delivery.type, created_at: delivery.event_created_at, data: delivery.data });
  // A fresh timestamp per attempt: receivers reject old ones; the id stays so they can dedupe.
  const timestamp = Math.floor(Date.now() / 1000);
  return sendWebhook({
    url: delivery.url,
    body,
    headers: webhookHeaders(signingSecrets(context, delivery), delivery.event_id, timestamp, body),
    policy: { allowHttp: context.config.HUB_ALLOW_HTTP_WEBHOOKS, allowPrivate: context.config.HUB_ALLOW_PRIVATE_WEBHOOKS },
    resolve: resolvers.get(context) ?? systemResolver,
    timeoutMs: context.config.HUB_WEBHOOK_TIMEOUT_SECONDS * 1000,
  });
}

const asyncCommit = (sql: Sql) => sql`set_config('synchronous_commit', 'off', true)`;
const claimedUntil = (sql: Sql, config: HubContext['config']) => sql`now() + make_interval(secs => ${config.HUB_WEBHOOK_TIMEOUT_SECONDS + CLAIM_MARGIN_SECONDS})`;

/**
 * Claims a delivery for sending, or records why it may not go yet (cancelled, waiting,
 * throttled). `from` is the state it is expected in; another state means someone else moved it.
 */
function decide(sql: Sql, config: HubContext['config'], deliveryId: number, from: string) {
  return sql<(ClaimedDelivery & { decision: string })[]>`
    update hub.webhook_deliveries d
    set status = x.decision,
        claimed_until = case when x.decision = 'sending' then ${claimedUntil(sql, config)} end,
        completed_at = case when x.decision = 'cancelled' then now() end
    from (
      select c.id, e.url, e.secret_encrypted, e.previous_secret_encrypted, e.previous_secret_expires_at,
             ev.type, ev.data, ev.created_at as event_created_at,
             case
               when not e.enabled or e.deleted_at is not null then 'cancelled'
               when exists (select 1 from hub.webhook_deliveries p
                            where p.endpoint_id = c.endpoint_id and p.subject = c.subject and p.id < c.id and p.status in ${sql(OPEN)}) then 'waiting'
               when (select count(*) from hub.webhook_deliveries f
                     where f.endpoint_id = c.endpoint_id and f.status = 'sending' and f.claimed_until > now()) >= ${config.HUB_WEBHOOK_ENDPOINT_CONCURRENCY} then 'throttled'
               else 'sending'
             end as decision
      from hub.webhook_deliveries c
      join hub.webhook_endpoints e on e.id = c.endpoint_id
      join hub.events ev on ev.id = c.event_id
      where c.id = ${deliveryId}
    ) x
    where d.id = x.id and d.status = ${from}
    returning ${asyncCommit(sql)}, x.decision, d.id, d.workspace_id, d.endpoint_id, d.event_id, d.subject, d.attempts, d.created_at,
              x.url, x.secret_encrypted, x.previous_secret_encrypted, x.previous_secret_expires_at, x.type, x.data, x.event_created_at`;
}

/** Claims a delivery for sending; null when it may not go yet (it is woken later) or is not due. */
async function claim(context: HubContext, deliveryId: number): Promise<ClaimedDelivery | null> {
  const { sql, config } = context;
  let from = 'pending';
  // After each newly committed waiting or throttled state, look once more: whatever freed
  // meanwhile is seen now, and whatever frees later wakes it. Settles in a round or two.
  for (let round = 0; round < 5; round++) {
    const [row] = await decide(sql, config, deliveryId, from);
    if (!row) return null; // done, cancelled, woken by someone else, or a stale duplicate job
    if (row.decision === 'cancelled') {
      await wakeNext(sql, config, row);
      return null;
    }
    if (row.decision === 'sending') {
      if (round >= 3 || (await keepsSlot(sql, config, deliveryId))) return row;
      from = 'throttled';
    } else if (row.decision === from) {
      return null;
    } else {
      from = row.decision;
    }
  }
  return null;
}

/**
 * After a claim committed: claims at the same instant may together pass the cap, so the newer
 * ones give their slot back (throttled, committed) while the cap's worth of older ones keep it.
 */
async function keepsSlot(sql: Sql, config: HubContext['config'], deliveryId: number): Promise<boolean> {
  const backedOff = await sql`
    update hub.webhook_deliveries d set status = 'throttled', claimed_until = null
    where d.id = ${deliveryId} and d.status = 'sending'
      and (select count(*) from hub.webhook_deliveries f
           where f.endpoint_id = d.endpoint_id and f.status = 'sending' and f.claimed_until > now()
             and (f.claimed_until, f.id) < (d.claimed_until, d.id)) >= ${config.HUB_WEBHOOK_ENDPOINT_CONCURRENCY}
    returning ${asyncCommit(sql)}`;
  return backedOff.length === 0;
}

/**
 * Records an attempt and the delivery's new state. When `handOver` is allowed and the endpoint
 * has throttled deliveries, the oldest takes this one's slot in the same statement (the
 * endpoint's in-flight count never moves) and is returned, claimed, to be sent next: no wake,
 * no job, no claim for it.
 */
async function record(context: HubContext, delivery: ClaimedDelivery, result: SendResult, handOver: boolean): Promise<ClaimedDelivery | null> {
  const { sql, config } = context;
  const attempt = delivery.attempts + 1;
  const delayMs = result.outcome === 'succeeded' || result.statusCode === 410 ? null : nextRetryDelayMs(attempt, { scale: config.HUB_WEBHOOK_RETRY_SCALE, retryAfterMs: result.retryAfterMs });
  const retrying = delayMs !== null;
  const status = result.outcome === 'succeeded' ? 'succeeded' : retrying ? 'pending' : 'failed';
  // The endpoint's own state changes with a failed delivery (disabled after 410, failing after a whole window): no hand-over then.
  const passSlot = handOver && status !== 'failed';
  // Only a delivery still ours changes state: not one cancelled meanwhile or taken over after a lost claim.
  const apply = (tx: Sql) => tx<{ id: number; next_id: number | null }[]>`
    with updated as (
      update hub.webhook_deliveries
      set status = ${status}, claimed_until = null, attempts = ${attempt}, last_status_code = ${result.statusCode}, last_error = ${result.error},
          next_attempt_at = ${retrying ? tx`now() + make_interval(secs => ${delayMs / 1000})` : null},
          completed_at = ${retrying ? null : tx`now()`}
      where id = ${delivery.id} and status = 'sending'
      returning id, next_attempt_at
    ), attempt as (
      insert into hub.webhook_attempts (delivery_id, endpoint_id, attempt, url, outcome, status_code, error, latency_ms, response_snippet)
      values (${delivery.id}, ${delivery.endpoint_id}, ${attempt}, ${delivery.url}, ${result.outcome}, ${result.statusCode}, ${result.error}, ${result.latencyMs}, ${result.snippet})
    ), healthy as (
      -- At most once a second per endpoint: rewriting one row on every success would make it hot.
      update hub.webhook_endpoints set last_success_at = now(), status = 'healthy', failing_since = null
      where id = ${delivery.endpoint_id} and ${result.outcome === 'succeeded'} and exists (select 1 from updated)
        and (status <> 'healthy' or last_success_at is null or last_success_at < now() - interval '1 second')
    ), next as (
      update hub.webhook_deliveries n set status = 'sending', claimed_until = ${claimedUntil(tx, config)}
      from (
        select id from hub.webhook_deliveries
        where endpoint_id = ${delivery.endpoint_id} and status = 'throttled' and ${passSlot} and exists (select 1 from updated)
        order by id limit 1
        for update skip locked
      ) oldest
      where n.id = oldest.id and n.status = 'throttled'
      returning n.id
    )
    select ${asyncCommit(tx)}, id, ${retrying ? enqueueDelivery(tx, tx`updated.id`, tx`updated.next_attempt_at`, true) : tx`null`} as job,
           (select id from next) as next_id
    from updated`;
  let ended: { next_id: number | null } | undefined;
  if (status !== 'failed') {
    [ended] = await apply(sql);
  } else {
    ended = await sql.begin(async (transaction) => {
      const tx = transaction as unknown as Sql;
      const [row] = await apply(tx);
      if (!row) return undefined;
      if (result.statusCode === 410) {
        await disableEndpoint(tx, delivery.endpoint_id, `The endpoint answered 410 Gone on ${new Date().toISOString()}: the hub stopped sending to it. Enable it again with PATCH {"enabled": true}.`);
      } else {
        await markFailing(tx, delivery.endpoint_id, delivery.created_at, result.error);
      }
      return row;
    });
  }
  if (!ended) return null;
  // After the commit: a delivery that decided to wait on this one has committed that too, or will see this end.
  await wakeNext(sql, config, { ...delivery, subject: retrying ? null : delivery.subject });
  return ended.next_id === null ? null : claimedDetails(sql, ended.next_id);
}

/** What sending a claimed delivery needs: its endpoint's URL and secrets, its event. */
async function claimedDetails(sql: Sql, deliveryId: number): Promise<ClaimedDelivery> {
  const [delivery] = await sql<ClaimedDelivery[]>`
    select d.id, d.workspace_id, d.endpoint_id, d.event_id, d.subject, d.attempts, d.created_at,
           e.url, e.secret_encrypted, e.previous_secret_encrypted, e.previous_secret_expires_at,
           ev.type, ev.data, ev.created_at as event_created_at
    from hub.webhook_deliveries d
    join hub.webhook_endpoints e on e.id = d.endpoint_id
    join hub.events ev on ev.id = d.event_id
    where d.id = ${deliveryId}`;
  return delivery;
}

/**
 * After a delivery's end (or a retry, which frees its slot) is committed: the first open delivery
 * of its subject goes if it waits, and the oldest throttled ones, as many as there are free slots.
 */
async function wakeNext(sql: Sql, config: HubContext['config'], delivery: { endpoint_id: string; subject: string | null }): Promise<void> {
  await sql`
    with head as (
      select id, status from hub.webhook_deliveries
      where endpoint_id = ${delivery.endpoint_id} and subject = ${delivery.subject} and status in ${sql(OPEN)}
      order by id limit 1
    ), free as (
      select greatest(0, ${config.HUB_WEBHOOK_ENDPOINT_CONCURRENCY} - count(*))::int as slots from hub.webhook_deliveries
      where endpoint_id = ${delivery.endpoint_id} and status = 'sending' and claimed_until > now()
    ), throttled as (
      select id from hub.webhook_deliveries where endpoint_id = ${delivery.endpoint_id} and status = 'throttled'
      order by id limit (select slots from free)
      for update skip locked
    ), ready as (
      select id from head where status = 'waiting' union select id from throttled
    ), woken as (
      update hub.webhook_deliveries d set status = 'pending' from ready where d.id = ready.id and d.status in ('waiting', 'throttled') returning d.id
    )
    select ${asyncCommit(sql)}, ${enqueueDelivery(sql, sql`woken.id`, undefined, true)} from woken`;
}

/**
 * Puts lost deliveries back in line; runs at worker start and every minute. A worker that
 * died mid-request leaves its delivery claimed until the claim lapses; one that died after
 * taking a job but before claiming leaves a job graphile-worker releases only after 4 hours
 * (and a job that failed 10 times is never run again). Waiting and throttled lines that no
 * wake reached are woken.
 */
export async function recoverDeliveries(context: HubContext): Promise<number> {
  const { sql, config } = context;
  const lost = await sql<{ id: number }[]>`
    with stalled as (
      update hub.webhook_deliveries set status = 'pending', claimed_until = null
      where status = 'sending' and claimed_until < now()
      returning id
    ), orphaned as (
      select d.id from hub.webhook_deliveries d
      where d.status = 'pending' and coalesce(d.next_attempt_at, d.created_at) < now() - interval '2 minutes'
        and not exists (select 1 from graphile_worker.jobs j
                        where j.key = 'webhook_delivery:' || d.id and j.attempts < j.max_attempts
                          and (j.locked_at is null or j.locked_at > now() - interval '2 minutes'))
    ), lost as (select id from stalled union select id from orphaned)
    select id, ${enqueueDelivery(sql, sql`lost.id`, undefined, true)} from lost`;
  const lines = await sql<{ endpoint_id: string; subject: string | null }[]>`
    select distinct endpoint_id, case when status = 'waiting' then subject end as subject
    from hub.webhook_deliveries where status in ('waiting', 'throttled')`;
  for (const line of lines) await wakeNext(sql, config, line);
  return lost.length;
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
  status: 'pending' | 'sending' | 'waiting' | 'throttled' | 'succeeded' | 'failed' | 'cancelled';
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
