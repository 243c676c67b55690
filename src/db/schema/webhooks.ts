import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { hub, workspaces } from './hub.js';

// Webhooks out: the outbox of events, the endpoints they go to, and every delivery and attempt.

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** The outbox: one row per event, written in the transaction of the change that caused it. */
export const events = hub.table('events', {
  id: text('id').primaryKey(),
  workspaceId: uuid('workspace_id').notNull().references(() => workspaces.id),
  type: text('type').notNull(),
  /** Ordering key (e.g. `customer:<id>`): deliveries with the same subject reach an endpoint in order. */
  subject: text('subject'),
  data: jsonb('data').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
}, (t) => [index('events_workspace_idx').on(t.workspaceId, t.createdAt, t.id)]);

export const webhookEndpoints = hub.table('webhook_endpoints', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  workspaceId: uuid('workspace_id').notNull().references(() => workspaces.id),
  url: text('url').notNull(),
  description: text('description'),
  /** Empty: every event type. Entries are types or `group.*`. */
  eventTypes: text('event_types').array().notNull().default(sql`'{}'::text[]`),
  enabled: boolean('enabled').notNull().default(true),
  /** healthy, or failing: every delivery failed for the whole retry window. */
  status: text('status', { enum: ['healthy', 'failing'] }).notNull().default('healthy'),
  /** Why the hub disabled the endpoint (e.g. it answered 410 Gone); cleared when an admin enables it. */
  disabledReason: text('disabled_reason'),
  secretEncrypted: text('secret_encrypted').notNull(),
  /** After a rotation the previous secret also signs, until it expires. */
  previousSecretEncrypted: text('previous_secret_encrypted'),
  previousSecretExpiresAt: at('previous_secret_expires_at'),
  failingSince: at('failing_since'),
  lastSuccessAt: at('last_success_at'),
  createdAt: at('created_at').notNull().defaultNow(),
  updatedAt: at('updated_at').notNull().defaultNow(),
  deletedAt: at('deleted_at'),
}, (t) => [index('webhook_endpoints_workspace_idx').on(t.workspaceId, t.createdAt)]);

/** One event to one endpoint; sent until it succeeds or its retry window ends. */
export const webhookDeliveries = hub.table('webhook_deliveries', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  workspaceId: uuid('workspace_id').notNull(),
  eventId: text('event_id').notNull().references(() => events.id),
  endpointId: uuid('endpoint_id').notNull().references(() => webhookEndpoints.id),
  subject: text('subject'),
  trigger: text('trigger', { enum: ['event', 'replay', 'redeliver'] }).notNull().default('event'),
  /**
   * pending: has a job, due now or at next_attempt_at; sending: a request is in flight;
   * waiting: behind an earlier open delivery of its subject, woken when that one ends;
   * throttled: the endpoint had its cap of requests in flight, woken when one ends.
   */
  status: text('status', { enum: ['pending', 'sending', 'waiting', 'throttled', 'succeeded', 'failed', 'cancelled'] }).notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: at('next_attempt_at'),
  /** While sending: past this, the worker is presumed dead and the delivery is queued again. */
  claimedUntil: at('claimed_until'),
  lastStatusCode: integer('last_status_code'),
  lastError: text('last_error'),
  createdAt: at('created_at').notNull().defaultNow(),
  completedAt: at('completed_at'),
}, (t) => [
  index('webhook_deliveries_event_idx').on(t.eventId, t.id),
  // Finds the earlier unfinished delivery of a subject (ordering) in one index probe.
  index('webhook_deliveries_open_subject_idx').on(t.endpointId, t.subject, t.id).where(sql`status in ('pending', 'sending', 'waiting', 'throttled') and subject is not null`),
  // In-flight count and the throttled line of an endpoint.
  index('webhook_deliveries_queue_idx').on(t.endpointId, t.status, t.id).where(sql`status in ('sending', 'throttled')`),
  // The minute's recovery reads only unfinished deliveries, however long the history.
  index('webhook_deliveries_unfinished_idx').on(t.status, t.id).where(sql`status in ('pending', 'sending', 'waiting', 'throttled')`),
  index('webhook_deliveries_endpoint_idx').on(t.endpointId, t.id),
]);

export const webhookAttempts = hub.table('webhook_attempts', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  deliveryId: bigint('delivery_id', { mode: 'number' }).notNull().references(() => webhookDeliveries.id),
  endpointId: uuid('endpoint_id').notNull(),
  attempt: integer('attempt').notNull(),
  url: text('url').notNull(),
  outcome: text('outcome', { enum: ['succeeded', 'failed', 'refused'] }).notNull(),
  statusCode: integer('status_code'),
  error: text('error'),
  latencyMs: integer('latency_ms').notNull(),
  /** The start of the response body, bounded in size. */
  responseSnippet: text('response_snippet'),
  attemptedAt: at('attempted_at').notNull().defaultNow(),
}, (t) => [
  index('webhook_attempts_delivery_idx').on(t.deliveryId, t.id),
  index('webhook_attempts_endpoint_idx').on(t.endpointId, t.attemptedAt),
]);
