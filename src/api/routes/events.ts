import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { getEventRow, isEventFilter, listEvents, presentEvent } from '../../core/events/index.js';
import { listEventDeliveries, presentDelivery, redeliverEvent } from '../../core/webhooks/index.js';
import { errorResponses, hub, json, pageOf, pageQuery, principal, type AppEnv } from '../shared.js';

const eventSchema = z
  .object({
    id: z.string().openapi({ description: 'Also the webhook-id header of every delivery of this event.', example: 'msg_2bVbS3mWJ0HcWq9z7nT1x4Lk8Qp' }),
    type: z.string().openapi({ example: 'customer.updated' }),
    subject: z.string().nullable().openapi({ description: 'Ordering key: events with the same subject reach an endpoint in order.', example: 'customer:5f0c2a52-8a63-4a3f-9a49-5b7a6a6f3c11' }),
    timestamp: z.string(),
    data: z.unknown(),
  })
  .openapi('Event');

const attemptSchema = z.object({
  attempt: z.number(),
  attempted_at: z.string(),
  url: z.string(),
  outcome: z.enum(['succeeded', 'failed', 'refused']).openapi({ description: 'refused: the address guard did not send (the host is not public, or the URL is not allowed).' }),
  status_code: z.number().nullable(),
  error: z.string().nullable(),
  latency_ms: z.number(),
  response_snippet: z.string().nullable().openapi({ description: 'The first 1 KiB of the response body.' }),
});

const deliverySchema = z
  .object({
    id: z.string(),
    event_id: z.string(),
    endpoint_id: z.string(),
    trigger: z.enum(['event', 'replay', 'redeliver']),
    status: z.enum(['pending', 'sending', 'waiting', 'throttled', 'succeeded', 'failed', 'cancelled']).openapi({ description: 'waiting: behind an earlier delivery of the same subject; throttled: the endpoint has as many requests in flight as it may (HUB_WEBHOOK_ENDPOINT_CONCURRENCY).' }),
    attempt_count: z.number(),
    next_attempt_at: z.string().nullable(),
    last_status_code: z.number().nullable(),
    last_error: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    attempts: z.array(attemptSchema),
  })
  .openapi('WebhookDelivery');

const eventParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'msg_2bVbS3mWJ0HcWq9z7nT1x4Lk8Qp' }) });
const redeliverBody = z
  .object({ endpoint_id: z.uuid().optional().openapi({ description: 'Only to this endpoint (even if its filter does not match); else to every enabled endpoint subscribed to the event.' }) })
  .strict()
  .openapi('EventRedeliver');

const secured = { security: [{ bearer: [] }], tags: ['events'] };

export const eventRoutes = new OpenAPIHono<AppEnv>()
  .openapi(
    createRoute({
      ...secured, method: 'get', path: '/v1/events', summary: 'Events, newest first',
      request: {
        query: pageQuery.extend({
          type: z.string().refine(isEventFilter, { message: 'must be an event type or a group such as "customer.*"' }).optional(),
          since: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Only events at or after this time.' }),
        }),
      },
      responses: { 200: json(pageOf(eventSchema, 'EventPage'), 'A page of events'), ...errorResponses },
    }),
    async (c) => {
      const { type, since, ...page } = c.req.valid('query');
      return c.json(await listEvents(hub(c), principal(c).workspaceId, { type, since }, page), 200);
    },
  )
  .openapi(
    createRoute({ ...secured, method: 'get', path: '/v1/events/{id}', summary: 'One event', request: { params: eventParam }, responses: { 200: json(eventSchema, 'The event'), ...errorResponses } }),
    async (c) => c.json(presentEvent(await getEventRow(hub(c), principal(c).workspaceId, c.req.valid('param').id)), 200),
  )
  .openapi(
    createRoute({
      ...secured, method: 'get', path: '/v1/events/{id}/deliveries', summary: 'Deliveries of an event, each with every attempt',
      request: { params: eventParam, query: pageQuery }, responses: { 200: json(pageOf(deliverySchema, 'WebhookDeliveryPage'), 'A page of deliveries'), ...errorResponses },
    }),
    async (c) => c.json(await listEventDeliveries(hub(c), principal(c).workspaceId, c.req.valid('param').id, c.req.valid('query')), 200),
  )
  .openapi(
    createRoute({
      ...secured, method: 'post', path: '/v1/events/{id}/redeliver', summary: 'Send an event again (same webhook-id)',
      request: { params: eventParam, body: { required: false, content: { 'application/json': { schema: redeliverBody } } } },
      responses: { 202: json(z.object({ deliveries: z.array(deliverySchema) }).openapi('EventRedeliverResult'), 'Queued'), ...errorResponses },
    }),
    async (c) => {
      const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
      const deliveries = await redeliverEvent(hub(c), principal(c).workspaceId, c.req.valid('param').id, body?.endpoint_id);
      return c.json({ deliveries: deliveries.map((row) => presentDelivery(row)) }, 202);
    },
  );
