import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

// Internal tables: who may do what, what to read, and the raw records as read.
export const hub = pgSchema('hub');

const id = () => uuid('id').primaryKey().default(sql`gen_random_uuid()`);
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const workspaces = hub.table('workspaces', {
  id: id(),
  name: text('name').notNull(),
  settings: jsonb('settings').notNull().default({}),
  createdAt: at('created_at').notNull().defaultNow(),
});

export const apiKeys = hub.table('api_keys', {
  id: id(),
  workspaceId: uuid('workspace_id').notNull().references(() => workspaces.id),
  name: text('name').notNull(),
  role: text('role', { enum: ['admin', 'read'] }).notNull(),
  prefix: text('prefix').notNull(),
  hash: text('hash').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
  lastUsedAt: at('last_used_at'),
  revokedAt: at('revoked_at'),
}, (t) => [uniqueIndex('api_keys_hash_key').on(t.hash)]);

export const connections = hub.table('connections', {
  id: id(),
  workspaceId: uuid('workspace_id').notNull().references(() => workspaces.id),
  kind: text('kind').notNull(),
  name: text('name').notNull(),
  config: jsonb('config').notNull().default({}),
  credentialsEncrypted: text('credentials_encrypted'),
  schedule: text('schedule'),
  status: text('status', { enum: ['active', 'needs_reauth', 'failing'] }).notNull().default('active'),
  statusMessage: text('status_message'),
  createdAt: at('created_at').notNull().defaultNow(),
  updatedAt: at('updated_at').notNull().defaultNow(),
  deletedAt: at('deleted_at'),
}, (t) => [index('connections_workspace_idx').on(t.workspaceId, t.createdAt)]);

export const files = hub.table('files', {
  id: id(),
  workspaceId: uuid('workspace_id').notNull().references(() => workspaces.id),
  connectionId: uuid('connection_id').notNull().references(() => connections.id),
  filename: text('filename').notNull(),
  path: text('path').notNull(),
  sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
  sha256: text('sha256').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
}, (t) => [index('files_connection_idx').on(t.connectionId, t.createdAt)]);

export const syncRuns = hub.table('sync_runs', {
  id: id(),
  workspaceId: uuid('workspace_id').notNull().references(() => workspaces.id),
  connectionId: uuid('connection_id').notNull().references(() => connections.id),
  status: text('status', { enum: ['queued', 'running', 'succeeded', 'failed'] }).notNull().default('queued'),
  trigger: text('trigger', { enum: ['api', 'cli', 'schedule'] }).notNull(),
  options: jsonb('options').notNull().default({}),
  streams: jsonb('streams').notNull().default({}),
  notes: jsonb('notes').notNull().default([]),
  error: jsonb('error'),
  requestedAt: at('requested_at').notNull().defaultNow(),
  startedAt: at('started_at'),
  heartbeatAt: at('heartbeat_at'),
  finishedAt: at('finished_at'),
}, (t) => [
  index('sync_runs_connection_idx').on(t.connectionId, t.requestedAt),
  index('sync_runs_workspace_idx').on(t.workspaceId, t.requestedAt),
  // At most one queued or running sync per connection: a second one is a 409.
  uniqueIndex('sync_runs_one_active_per_connection').on(t.connectionId).where(sql`status in ('queued', 'running')`),
]);

export const streamStates = hub.table('stream_states', {
  connectionId: uuid('connection_id').notNull().references(() => connections.id),
  stream: text('stream').notNull(),
  workspaceId: uuid('workspace_id').notNull().references(() => workspaces.id),
  cursor: jsonb('cursor'),
  readId: uuid('read_id'),
  readStartedAt: at('read_started_at'),
  readCursor: jsonb('read_cursor'),
  updatedAt: at('updated_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.connectionId, t.stream] })]);

export const sourceRecords = hub.table('source_records', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  workspaceId: uuid('workspace_id').notNull(),
  connectionId: uuid('connection_id').notNull(),
  stream: text('stream').notNull(),
  externalId: text('external_id').notNull(),
  data: jsonb('data').notNull(),
  hash: text('hash').notNull(),
  lastSeenRead: uuid('last_seen_read'),
  firstSeenAt: at('first_seen_at').notNull().defaultNow(),
  updatedAt: at('updated_at').notNull().defaultNow(),
  deletedAt: at('deleted_at'),
  deletedInSource: boolean('deleted_in_source').notNull().default(false),
}, (t) => [uniqueIndex('source_records_identity').on(t.connectionId, t.stream, t.externalId)]);

export const quarantine = hub.table('quarantine', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  workspaceId: uuid('workspace_id').notNull(),
  connectionId: uuid('connection_id').notNull(),
  syncRunId: uuid('sync_run_id'),
  stream: text('stream').notNull(),
  externalId: text('external_id'),
  line: integer('line'),
  reason: text('reason').notNull(),
  details: jsonb('details'),
  raw: jsonb('raw'),
  createdAt: at('created_at').notNull().defaultNow(),
}, (t) => [index('quarantine_connection_idx').on(t.connectionId, t.id)]);

/**
 * Facts that changed and whose derived data (golden records, rollups) is not yet
 * brought up to date: written in the same transaction as the change, drained by the
 * `derive` job. One row per page and kind, not per record.
 */
export const factChanges = hub.table('fact_changes', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  workspaceId: uuid('workspace_id').notNull(),
  kind: text('kind').notNull(),
  sourceRecordIds: bigint('source_record_ids', { mode: 'number' }).array().notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
}, (t) => [index('fact_changes_workspace_idx').on(t.workspaceId, t.id)]);

/** Database login roles for BI tools (`hub bi-role create`): each reads the `bi` views of one workspace. */
export const biRoles = hub.table('bi_roles', {
  roleName: text('role_name').primaryKey(),
  workspaceId: uuid('workspace_id').notNull().references(() => workspaces.id),
  createdAt: at('created_at').notNull().defaultNow(),
});
