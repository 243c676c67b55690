import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { getSyncRun, listQuarantine, listSyncRuns, presentSyncRun } from '../../core/ingest/index.js';
import { errorResponses, hub, idParam, json, pageOf, pageQuery, principal, type AppEnv } from '../shared.js';

const streamStatsSchema = z.object({
  status: z.enum(['running', 'succeeded', 'failed']),
  read: z.number(), inserted: z.number(), updated: z.number(), unchanged: z.number(), quarantined: z.number(), deleted: z.number(),
  resumed_from: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

export const syncRunSchema = z
  .object({
    id: z.string(),
    connection_id: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed']),
    trigger: z.enum(['api', 'cli', 'schedule']),
    options: z.record(z.string(), z.unknown()),
    streams: z.record(z.string(), streamStatsSchema).openapi({ description: 'Per-stream counts, updated after every page.' }),
    notes: z.array(z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() })).openapi({ description: 'What the owner should know: the mapping used, deletes skipped by the guard, …' }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    requested_at: z.string(),
    started_at: z.string().nullable(),
    heartbeat_at: z.string().nullable(),
    finished_at: z.string().nullable(),
  })
  .openapi('SyncRun');

const quarantineSchema = z
  .object({
    id: z.string(), connection_id: z.string(), sync_run_id: z.string().nullable(), stream: z.string(),
    external_id: z.string().nullable(), line: z.number().nullable().openapi({ description: 'Line in the source file, for file connectors.' }),
    reason: z.string(), details: z.unknown(), raw: z.unknown(), created_at: z.string(),
  })
  .openapi('QuarantinedRecord');

const uuid = z.uuid();
const secured = { security: [{ bearer: [] }] };

export const syncRunRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({ ...secured, tags: ['sync runs'], method: 'get', path: '/v1/sync-runs', summary: 'Sync runs, newest first', request: { query: pageQuery.extend({ connection_id: uuid.optional() }) }, responses: { 200: json(pageOf(syncRunSchema, 'SyncRunPage'), 'A page of runs'), ...errorResponses } }),
    async (c) => {
      const { connection_id, ...page } = c.req.valid('query');
      return c.json(await listSyncRuns(hub(c), principal(c).workspaceId, { connectionId: connection_id }, page), 200);
    },
  )
  .openapi(
    createRoute({ ...secured, tags: ['sync runs'], method: 'get', path: '/v1/sync-runs/{id}', summary: 'One run: status, per-stream counts, notes, errors', request: { params: idParam }, responses: { 200: json(syncRunSchema, 'The run'), ...errorResponses } }),
    async (c) => c.json(presentSyncRun(await getSyncRun(hub(c), principal(c).workspaceId, c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute({ ...secured, tags: ['quarantine'], method: 'get', path: '/v1/quarantine', summary: 'Records rejected by syncs, with the reason', request: { query: pageQuery.extend({ connection_id: uuid.optional(), sync_run_id: uuid.optional() }) }, responses: { 200: json(pageOf(quarantineSchema, 'QuarantinePage'), 'A page of rejected records'), ...errorResponses } }),
    async (c) => {
      const { connection_id, sync_run_id, ...page } = c.req.valid('query');
      return c.json(await listQuarantine(hub(c), principal(c).workspaceId, { connectionId: connection_id, syncRunId: sync_run_id }, page), 200);
    },
  );
