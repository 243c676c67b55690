import { sql } from 'drizzle-orm';
import { bigint, doublePrecision, index, integer, jsonb, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { canonical } from './canonical.js';
import { hub } from './hub.js';

// Golden records: one customer / organization per real client, built by reconciliation
// (src/core/reconcile/) from source_people / source_organizations. They are derived data:
// deleting them and reconciling again gives the same ids and clusters, because an id is a
// function of the cluster's anchor record (its smallest source_record_id).

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

const goldenColumns = () => ({
  id: uuid('id').primaryKey(),
  workspaceId: uuid('workspace_id').notNull(),
  /** The source record whose id this golden id is derived from. */
  anchorRecordId: bigint('anchor_record_id', { mode: 'number' }).notNull(),
  name: text('name'),
  phones: text('phones').array().notNull().default(sql`'{}'::text[]`),
  /** Per golden field: the source record, connection and survivorship rule it came from. */
  sources: jsonb('sources').notNull().default({}),
  recordCount: integer('record_count').notNull(),
  firstSeenAt: at('first_seen_at').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
  updatedAt: at('updated_at').notNull().defaultNow(),
});

export const customers = canonical.table('customers', {
  ...goldenColumns(),
  emails: text('emails').array().notNull().default(sql`'{}'::text[]`),
  organizationId: uuid('organization_id'),
  organizationName: text('organization_name'),
  owner: text('owner'),
  birthDate: text('birth_date'),
  address: text('address'),
  city: text('city'),
  postalCode: text('postal_code'),
}, (t) => [index('customers_workspace_idx').on(t.workspaceId), index('customers_organization_idx').on(t.organizationId)]);

export const organizations = canonical.table('organizations', {
  ...goldenColumns(),
  domains: text('domains').array().notNull().default(sql`'{}'::text[]`),
  taxId: text('tax_id'),
}, (t) => [index('organizations_workspace_idx').on(t.workspaceId)]);

const linkColumns = () => ({
  sourceRecordId: bigint('source_record_id', { mode: 'number' }).primaryKey(),
  workspaceId: uuid('workspace_id').notNull(),
  connectionId: uuid('connection_id').notNull(),
  /** The golden id this record would have as an anchor: old golden ids resolve through it (aliases). */
  selfId: uuid('self_id').notNull(),
  /** anchor | auto | admin */
  rule: text('rule').notNull(),
  /** Match weight (log2 Bayes factor) of the link that joined this record, null for the anchor. */
  score: doublePrecision('score'),
  /** The field-by-field comparison of that link. */
  evidence: jsonb('evidence'),
  linkedBy: text('linked_by').notNull(),
  linkedAt: at('linked_at').notNull().defaultNow(),
});

export const customerLinks = canonical.table('customer_links', {
  ...linkColumns(),
  customerId: uuid('customer_id').notNull(),
}, (t) => [index('customer_links_customer_idx').on(t.customerId), index('customer_links_self_idx').on(t.selfId)]);

export const organizationLinks = canonical.table('organization_links', {
  ...linkColumns(),
  organizationId: uuid('organization_id').notNull(),
}, (t) => [index('organization_links_organization_idx').on(t.organizationId), index('organization_links_self_idx').on(t.selfId)]);

/** Normalized matching features and blocking keys of each live person / organization fact. */
export const matchRecords = hub.table('match_records', {
  sourceRecordId: bigint('source_record_id', { mode: 'number' }).notNull(),
  workspaceId: uuid('workspace_id').notNull(),
  kind: text('kind', { enum: ['person', 'organization'] }).notNull(),
  features: jsonb('features').notNull(),
  keys: text('keys').array().notNull(),
  // One source record can be both a person and an organization (a row with a name and a company).
}, (t) => [primaryKey({ columns: [t.sourceRecordId, t.kind] }), index('match_records_keys_idx').using('gin', t.keys), index('match_records_workspace_idx').on(t.workspaceId, t.kind)]);

/**
 * Blocking keys known to hold more records than the block cap (skipped by blocking): an
 * incremental run skips them without counting their members again. Blocks only shrink when a
 * record holding the key changes or goes, and those keys are dropped from here when it does.
 */
export const matchOversizedKeys = hub.table('match_oversized_keys', {
  workspaceId: uuid('workspace_id').notNull(),
  kind: text('kind', { enum: ['person', 'organization'] }).notNull(),
  key: text('key').notNull(),
}, (t) => [primaryKey({ columns: [t.workspaceId, t.kind, t.key] })]);

/** The review queue: pairs scored between the review and auto-merge thresholds, or stopped by a limit or guard. */
export const matchCandidates = hub.table('match_candidates', {
  workspaceId: uuid('workspace_id').notNull(),
  kind: text('kind', { enum: ['person', 'organization'] }).notNull(),
  recordA: bigint('record_a', { mode: 'number' }).notNull(),
  recordB: bigint('record_b', { mode: 'number' }).notNull(),
  score: doublePrecision('score').notNull(),
  /** review_band | limit | guard */
  reason: text('reason').notNull(),
  evidence: jsonb('evidence').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.workspaceId, t.kind, t.recordA, t.recordB] }), index('match_candidates_a_idx').on(t.recordA), index('match_candidates_b_idx').on(t.recordB)]);

/** Admin decisions, as record-pair constraints replayed in order on every run: the latest word on a pair wins. */
export const matchOverrides = hub.table('match_overrides', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  workspaceId: uuid('workspace_id').notNull(),
  kind: text('kind', { enum: ['person', 'organization'] }).notNull(),
  /** merge | split | never_merge */
  action: text('action').notNull(),
  groupId: uuid('group_id').notNull(),
  recordA: bigint('record_a', { mode: 'number' }).notNull(),
  recordB: bigint('record_b', { mode: 'number' }).notNull(),
  /** must | cannot */
  link: text('link', { enum: ['must', 'cannot'] }).notNull(),
  createdBy: text('created_by'),
  createdAt: at('created_at').notNull().defaultNow(),
}, (t) => [index('match_overrides_workspace_idx').on(t.workspaceId, t.kind), index('match_overrides_a_idx').on(t.recordA), index('match_overrides_b_idx').on(t.recordB)]);

/** Trained m/u parameters per workspace and kind: incremental runs use the model the last full run trained. */
export const matchModels = hub.table('match_models', {
  workspaceId: uuid('workspace_id').notNull(),
  kind: text('kind', { enum: ['person', 'organization'] }).notNull(),
  params: jsonb('params').notNull(),
  trainedAt: at('trained_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.workspaceId, t.kind] })]);
