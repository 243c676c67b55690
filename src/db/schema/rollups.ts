import { bigint, boolean, date, doublePrecision, index, integer, jsonb, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { canonical } from './canonical.js';
import { hub } from './hub.js';

// Metric rollups: one row per metric × grain × period × dimension value × currency, kept up
// to date incrementally from the facts (src/core/rollups/). Read by /v1/metrics and bi.metric_rollups.

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const METRIC_GRAINS = ['day', 'week', 'month'] as const;
export const METRIC_DIMENSIONS = ['workspace', 'owner', 'customer', 'connection'] as const;

export const metricRollups = canonical.table('metric_rollups', {
  workspaceId: uuid('workspace_id').notNull(),
  metric: text('metric').notNull(),
  grain: text('grain', { enum: METRIC_GRAINS }).notNull(),
  /** First local day of the period in the workspace's time zone (a Monday for ISO weeks). */
  periodStart: date('period_start', { mode: 'string' }).notNull(),
  dimension: text('dimension', { enum: METRIC_DIMENSIONS }).notNull(),
  /** The owner, golden customer id or connection id; '' for the workspace as a whole. */
  dimensionValue: text('dimension_value').notNull(),
  /** ISO 4217 code for amounts (never summed across currencies); '' for counts and durations. */
  currency: text('currency').notNull(),
  /** The metric's headline number (see its definition); null when undefined (e.g. a ratio over zero). */
  value: doublePrecision('value'),
  /** How many facts (or customers) the value is computed from. */
  count: bigint('count', { mode: 'number' }).notNull(),
  /** What is needed to merge or read further: sums, numerators and denominators, p50/p90/mean. */
  inputs: jsonb('inputs').notNull().default({}),
  updatedAt: at('updated_at').notNull().defaultNow(),
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.metric, t.grain, t.dimension, t.periodStart, t.dimensionValue, t.currency] }),
  // The refresh rewrites some periods of a grain: found by period, not by scanning a metric's every row.
  index('metric_rollups_period_idx').on(t.workspaceId, t.grain, t.periodStart, t.metric),
]);

/**
 * Facts whose change makes rollups stale, written by triggers in the transaction of the change
 * (old and new times, so a moved payment recomputes both periods). The derive job drains it.
 */
export const rollupDirty = hub.table('rollup_dirty', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  workspaceId: uuid('workspace_id').notNull(),
  /** The family whose periods a time touches (payments, invoices, invoices_due, deals_closed, …), or links | people | refs | payers | all. */
  family: text('family').notNull(),
  at: at('at'),
  /** messages: connection_id|thread_ref; links: the person source_record_id whose golden customer changed; people: connection_id|external_id of a deleted person; refs, payers: a JSON array of connection_id|customer_ref (null: every customer). */
  ref: text('ref'),
}, (t) => [index('rollup_dirty_workspace_idx').on(t.workspaceId, t.id)]);

/** How far the passing of time has been applied to rollups (due dates that passed make invoices overdue). */
export const rollupClock = hub.table('rollup_clock', {
  id: integer('id').primaryKey(),
  checkedUntil: at('checked_until').notNull(),
});

/**
 * Which golden customer a fact's customer_ref names: per connection and external id, the
 * customer linked to the lowest live person record with that id. Kept by the rollup drain
 * from the `links` marks (and rebuilt whole on a full refresh), so that every metric joins
 * it by equality instead of resolving source person → link for every fact it reads.
 */
export const customerRefs = hub.table('customer_refs', {
  workspaceId: uuid('workspace_id').notNull(),
  connectionId: uuid('connection_id').notNull(),
  externalId: text('external_id').notNull(),
  customerId: uuid('customer_id').notNull(),
  /** The customer's owner, copied: the owner dimension then needs no join to customers (an owner change marks every link of the customer). */
  owner: text('owner'),
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.connectionId, t.externalId] }),
  index('customer_refs_customer_idx').on(t.workspaceId, t.customerId),
]);

/**
 * Each golden customer's first payment that counts (net of refunds above zero), for new vs
 * returning customers: kept by the drain for the customers its `payers` and link marks name,
 * so that a period's new customers are a join, not a search of every active customer's history.
 */
export const customerFirsts = hub.table('customer_firsts', {
  workspaceId: uuid('workspace_id').notNull(),
  customerId: uuid('customer_id').notNull(),
  firstPaidAt: at('first_paid_at').notNull(),
}, (t) => [primaryKey({ columns: [t.workspaceId, t.customerId] })]);

/**
 * Which golden customers paid (net of refunds above zero) in which local period of each grain,
 * with the customer's owner: the active sets behind active, new and returning customers and
 * retention. Kept by the drain for the customers whose facts or references changed; the
 * periods whose sets changed are the ones the customers family recomputes.
 */
export const customerActivity = hub.table('customer_activity', {
  workspaceId: uuid('workspace_id').notNull(),
  grain: text('grain', { enum: METRIC_GRAINS }).notNull(),
  periodStart: date('period_start', { mode: 'string' }).notNull(),
  customerId: uuid('customer_id').notNull(),
  owner: text('owner'),
  /** The period of the customer's first payment (hub.customer_firsts): the customer is new in it. */
  first: boolean('first').notNull().default(false),
}, (t) => [primaryKey({ columns: [t.workspaceId, t.grain, t.periodStart, t.customerId] })]);

/**
 * Each conversation thread's first inbound message and the first reply after it, for
 * first_response_time and unanswered_threads: kept by the drain for the threads its marks
 * name, so a refresh reads the threads that started in a period instead of finding them.
 */
export const threadFirsts = hub.table('thread_firsts', {
  workspaceId: uuid('workspace_id').notNull(),
  connectionId: uuid('connection_id').notNull(),
  threadRef: text('thread_ref').notNull(),
  firstIn: at('first_in').notNull(),
  firstOut: at('first_out'),
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.connectionId, t.threadRef] }),
  index('thread_firsts_first_in_idx').on(t.workspaceId, t.firstIn),
]);
