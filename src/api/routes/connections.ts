import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { Readable } from 'node:stream';
import {
  checkConnection, createConnection, deleteConnection, getConnection, listConnections, presentConnection, scheduleSchema, updateConnection,
} from '../../core/connections/index.js';
import { HubError } from '../../core/errors.js';
import { presentFile, saveUpload } from '../../core/files/index.js';
import { presentSyncRun, requestSync, syncOptionsSchema } from '../../core/ingest/index.js';
import { errorResponses, hub, idParam, json, jsonBody, pageOf, pageQuery, principal, type AppEnv } from '../shared.js';
import { syncRunSchema } from './sync-runs.js';

const connectionSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    name: z.string(),
    config: z.record(z.string(), z.unknown()),
    schedule: scheduleSchema.nullable(),
    status: z.enum(['active', 'needs_reauth', 'failing']).openapi({ description: 'needs_reauth: the source refused the credentials; status_message says what to do.' }),
    status_message: z.string().nullable(),
    has_credentials: z.boolean().openapi({ description: 'Credentials are never returned, only whether some are stored.' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Connection');

const createBody = z
  .object({
    kind: z.string().min(1).openapi({ example: 'csv' }),
    name: z.string().trim().min(1).max(200).openapi({ example: 'Clients spreadsheet' }),
    config: z.record(z.string(), z.unknown()).optional().openapi({ description: "Validated against the connector's config_schema." }),
    credentials: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Encrypted at rest; never returned.' }),
    schedule: scheduleSchema.nullable().optional(),
  })
  .strict()
  .openapi('ConnectionCreate');

const patchBody = createBody.omit({ kind: true }).partial().strict().openapi('ConnectionUpdate');

const fileSchema = z.object({ id: z.string(), filename: z.string(), size_bytes: z.number(), sha256: z.string() }).openapi('File');
const secured = { security: [{ bearer: [] }], tags: ['connections'] };

export const connectionRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({ ...secured, method: 'post', path: '/v1/connections', summary: 'Create a connection', request: { body: jsonBody(createBody) }, responses: { 201: json(connectionSchema, 'Created'), ...errorResponses } }),
    async (c) => {
      const row = await createConnection(hub(c), principal(c).workspaceId, c.req.valid('json'));
      return c.json(presentConnection(row), 201);
    },
  )
  .openapi(
    createRoute({ ...secured, method: 'get', path: '/v1/connections', summary: 'List connections', request: { query: pageQuery }, responses: { 200: json(pageOf(connectionSchema, 'ConnectionPage'), 'A page of connections'), ...errorResponses } }),
    async (c) => c.json(await listConnections(hub(c), principal(c).workspaceId, c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({ ...secured, method: 'get', path: '/v1/connections/{id}', summary: 'One connection (credentials never returned)', request: { params: idParam }, responses: { 200: json(connectionSchema, 'The connection'), ...errorResponses } }),
    async (c) => c.json(presentConnection(await getConnection(hub(c), principal(c).workspaceId, c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute({ ...secured, method: 'patch', path: '/v1/connections/{id}', summary: 'Change name, config, credentials or schedule', request: { params: idParam, body: jsonBody(patchBody) }, responses: { 200: json(connectionSchema, 'Updated'), ...errorResponses } }),
    async (c) => c.json(presentConnection(await updateConnection(hub(c), principal(c).workspaceId, c.req.valid('param').id, c.req.valid('json'))), 200),
  )
  .openapi(
    createRoute({ ...secured, method: 'delete', path: '/v1/connections/{id}', summary: 'Delete a connection (its records become tombstones)', request: { params: idParam }, responses: { 204: { description: 'Deleted' }, ...errorResponses, 409: json(z.any(), 'A sync is running') } }),
    async (c) => {
      await deleteConnection(hub(c), principal(c).workspaceId, c.req.valid('param').id);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      ...secured, method: 'post', path: '/v1/connections/{id}/check', summary: 'Test the config and credentials against the source', request: { params: idParam },
      responses: { 200: json(z.object({ ok: z.boolean(), message: z.string(), details: z.unknown() }), 'The source answered'), ...errorResponses, 502: json(z.any(), 'The source refused or failed') },
    }),
    async (c) => c.json(await checkConnection(hub(c), principal(c).workspaceId, c.req.valid('param').id), 200),
  )
  .openapi(
    createRoute({
      ...secured, method: 'post', path: '/v1/connections/{id}/syncs', summary: 'Start a sync', request: { params: idParam, body: { required: false, content: { 'application/json': { schema: syncOptionsSchema } } } },
      responses: { 202: json(syncRunSchema, 'Queued'), ...errorResponses, 409: json(z.any(), 'Already syncing') },
    }),
    async (c) => {
      const options = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
      const run = await requestSync(hub(c), principal(c).workspaceId, c.req.valid('param').id, 'api', options ?? {});
      return c.json(presentSyncRun(run), 202);
    },
  )
  .openapi(
    createRoute({
      ...secured, method: 'post', path: '/v1/connections/{id}/files',
      summary: 'Upload a file for a file connector (raw body, streamed to disk)',
      description: 'Send the file as the raw request body, e.g. `curl --data-binary @clients.csv -H "content-type: text/csv"`. With `?sync=true` a sync of this file starts at once.',
      request: {
        params: idParam,
        query: z.object({ filename: z.string().max(255).optional(), sync: z.enum(['true', 'false']).optional() }),
        body: { required: true, content: { 'text/csv': { schema: z.string().openapi({ format: 'binary' }) }, 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
      },
      responses: { 201: json(z.object({ file: fileSchema, sync_run: syncRunSchema.nullable() }), 'Stored'), ...errorResponses, 413: json(z.any(), 'Larger than HUB_UPLOAD_MAX_BYTES') },
    }),
    async (c) => {
      const context = hub(c);
      const { workspaceId } = principal(c);
      const connection = await getConnection(context, workspaceId, c.req.valid('param').id);
      if (!context.connectors[connection.kind]?.readsFiles) throw new HubError('not_a_file_connector', 400, `A ${connection.kind} connection does not read files.`);
      const declared = Number(c.req.header('content-length'));
      if (declared > context.config.HUB_UPLOAD_MAX_BYTES) throw new HubError('file_too_large', 413, `The file is larger than the upload limit (HUB_UPLOAD_MAX_BYTES = ${context.config.HUB_UPLOAD_MAX_BYTES} bytes).`);
      if (!c.req.raw.body) throw new HubError('empty_file', 400, 'The request has no body: send the file as the raw body.');
      const { filename = 'upload.csv', sync } = c.req.valid('query');
      const file = await saveUpload(context, { workspaceId, connectionId: connection.id }, filename, Readable.fromWeb(c.req.raw.body as never));
      const run = sync === 'true' ? await requestSync(context, workspaceId, connection.id, 'api', { file_id: file.id }) : null;
      return c.json({ file: presentFile(file), sync_run: run ? presentSyncRun(run) : null }, 201);
    },
  );
