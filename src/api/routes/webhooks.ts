import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { EVENT_TYPES, isEventFilter } from '../../core/events/index.js';
import {
  createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, presentEndpoint, replayEndpoint, rotateSecret, ROTATION_OVERLAP_HOURS, updateEndpoint,
} from '../../core/webhooks/index.js';
import { errorResponses, hub, idParam, json, jsonBody, pageOf, pageQuery, principal, type AppEnv } from '../shared.js';

const endpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.string()).openapi({ description: 'Empty: every event type.' }),
    enabled: z.boolean(),
    status: z.enum(['healthy', 'failing']).openapi({ description: 'failing: every delivery failed for a whole retry window (about three days); the next success heals it.' }),
    disabled_reason: z.string().nullable().openapi({ description: 'Why the hub disabled the endpoint (it answered 410 Gone).' }),
    failing_since: z.string().nullable(),
    last_success_at: z.string().nullable(),
    previous_secret_expires_at: z.string().nullable().openapi({ description: 'After a rotation: until then deliveries carry a signature with the previous secret too.' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('WebhookEndpoint');

const withSecret = endpointSchema
  .extend({ secret: z.string().openapi({ description: 'whsec_…: shown only in this response. Verify deliveries with it (Standard Webhooks).', example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }) })
  .openapi('WebhookEndpointWithSecret');

const eventTypes = z
  .array(z.string().refine(isEventFilter, { message: `must be an event type (${EVENT_TYPES.join(', ')}) or a group such as "customer.*"` }))
  .max(50)
  .openapi({ description: 'Event types to receive; "customer.*" for a group; empty or absent for all.', example: ['customer.*', 'sync_run.failed'] });

const createBody = z
  .object({
    url: z.string().max(2048).openapi({ example: 'https://example.com/hooks/hub', description: 'https (http only where the deployment allows it); the host must resolve to public addresses.' }),
    description: z.string().max(500).nullable().optional(),
    event_types: eventTypes.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi('WebhookEndpointCreate');

const patchBody = createBody.partial().strict().openapi('WebhookEndpointUpdate');

const replayBody = z
  .object({ since: z.iso.datetime({ offset: true }).openapi({ example: '2025-01-31T00:00:00Z', description: 'Re-send every event since this time (inclusive) that the endpoint subscribes to.' }) })
  .strict()
  .openapi('WebhookReplay');

const secured = { security: [{ bearer: [] }], tags: ['webhooks'] };
const path = '/v1/webhook-endpoints';

export const webhookRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({ ...secured, method: 'post', path, summary: 'Create a webhook endpoint (its secret is shown once)', request: { body: jsonBody(createBody) }, responses: { 201: json(withSecret, 'Created'), ...errorResponses } }),
    async (c) => {
      const { endpoint, secret } = await createEndpoint(hub(c), principal(c).workspaceId, c.req.valid('json'));
      return c.json({ ...presentEndpoint(endpoint), secret }, 201);
    },
  )
  .openapi(
    createRoute({ ...secured, method: 'get', path, summary: 'List webhook endpoints', request: { query: pageQuery }, responses: { 200: json(pageOf(endpointSchema, 'WebhookEndpointPage'), 'A page of endpoints'), ...errorResponses } }),
    async (c) => c.json(await listEndpoints(hub(c), principal(c).workspaceId, c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({ ...secured, method: 'get', path: `${path}/{id}`, summary: 'One webhook endpoint (never its secret)', request: { params: idParam }, responses: { 200: json(endpointSchema, 'The endpoint'), ...errorResponses } }),
    async (c) => c.json(presentEndpoint(await getEndpoint(hub(c), principal(c).workspaceId, c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute({
      ...secured, method: 'patch', path: `${path}/{id}`, summary: 'Change url, description, event types or enabled',
      description: 'Disabling cancels what the endpoint has not received yet; replay it after enabling again.',
      request: { params: idParam, body: jsonBody(patchBody) }, responses: { 200: json(endpointSchema, 'Updated'), ...errorResponses },
    }),
    async (c) => c.json(presentEndpoint(await updateEndpoint(hub(c), principal(c).workspaceId, c.req.valid('param').id, c.req.valid('json'))), 200),
  )
  .openapi(
    createRoute({ ...secured, method: 'delete', path: `${path}/{id}`, summary: 'Delete a webhook endpoint (its delivery history stays)', request: { params: idParam }, responses: { 204: { description: 'Deleted' }, ...errorResponses } }),
    async (c) => {
      await deleteEndpoint(hub(c), principal(c).workspaceId, c.req.valid('param').id);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      ...secured, method: 'post', path: `${path}/{id}/rotate-secret`, summary: 'Issue a new secret (shown once)',
      description: `For ${ROTATION_OVERLAP_HOURS} hours deliveries are signed with the new and the previous secret (two space-separated signatures), so receivers can switch without losing a delivery.`,
      request: { params: idParam }, responses: { 200: json(withSecret, 'The endpoint with its new secret'), ...errorResponses },
    }),
    async (c) => {
      const { endpoint, secret } = await rotateSecret(hub(c), principal(c).workspaceId, c.req.valid('param').id);
      return c.json({ ...presentEndpoint(endpoint), secret }, 200);
    },
  )
  .openapi(
    createRoute({
      ...secured, method: 'post', path: `${path}/{id}/replay`, summary: 'Re-send every event since a time',
      request: { params: idParam, body: jsonBody(replayBody) },
      responses: { 202: json(z.object({ events: z.number().openapi({ description: 'Events queued for this endpoint.' }) }).openapi('WebhookReplayResult'), 'Queued'), ...errorResponses, 409: json(z.any(), 'The endpoint is disabled') },
    }),
    async (c) => c.json(await replayEndpoint(hub(c), principal(c).workspaceId, c.req.valid('param').id, c.req.valid('json').since), 202),
  );
