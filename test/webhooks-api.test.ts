import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../src/core/events/index.js';
import { createTestHub, type TestHub } from './helpers/hub.js';

// The HTTP contract of /v1/webhook-endpoints and /v1/events: keys and roles, workspace
// isolation, validation and pagination. No worker runs, so deliveries stay queued.

let hub: TestHub;
beforeAll(async () => {
  hub = await createTestHub({ worker: false });
});
afterAll(async () => {
  await hub?.close();
});

type ErrorBody = { error: { code: string; message: string; details?: any } };

async function expectError(response: Response, status: number, code: string): Promise<ErrorBody> {
  expect(response.status).toBe(status);
  const body = (await response.json()) as ErrorBody;
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body;
}

async function createEndpoint(key: string, body: Record<string, unknown> = {}) {
  const response = await hub.request('POST', '/v1/webhook-endpoints', { key, json: { url: 'https://hooks.example.com/in', ...body } });
  expect(response.status).toBe(201);
  return response.json();
}

describe('webhook endpoints', () => {
  it('creates, reads, updates and deletes an endpoint', async () => {
    const { key } = await hub.workspace();
    const created = await createEndpoint(key, { description: 'CRM', event_types: ['customer.*', 'sync_run.failed'] });
    expect(created).toMatchObject({ url: 'https://hooks.example.com/in', description: 'CRM', event_types: ['customer.*', 'sync_run.failed'], enabled: true, status: 'healthy', disabled_reason: null });

    const patched = await hub.request('PATCH', `/v1/webhook-endpoints/${created.id}`, { key, json: { url: 'https://hooks.example.com/v2', enabled: false, event_types: [] } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ url: 'https://hooks.example.com/v2', enabled: false, event_types: [] });

    expect((await hub.request('DELETE', `/v1/webhook-endpoints/${created.id}`, { key })).status).toBe(204);
    await expectError(await hub.request('GET', `/v1/webhook-endpoints/${created.id}`, { key }), 404, 'not_found');
    expect((await (await hub.request('GET', '/v1/webhook-endpoints', { key })).json()).data).toEqual([]);
  });

  it('refuses an unknown event type and an unknown field, listing each problem', async () => {
    const { key } = await hub.workspace();
    const body = await expectError(await hub.request('POST', '/v1/webhook-endpoints', { key, json: { url: 'https://hooks.example.com/in', event_types: ['customer.*', 'custmer.created', 'nothing.*'], colour: 'red' } }), 400, 'invalid_request');
    const paths = body.error.details.map((issue: { path: string }) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['event_types.1', 'event_types.2']));
    expect(JSON.stringify(body.error.details)).toContain('colour');
    await expectError(await hub.request('POST', '/v1/webhook-endpoints', { key, json: { url: 'not a url' } }), 400, 'invalid_request');
  });

  it('lets a read key list endpoints and events but change nothing', async () => {
    const { key, readKey, workspaceId } = await hub.workspace();
    const endpoint = await createEndpoint(key);
    const eventId = await emitEvent(hub.sql, { workspaceId, type: 'customer.updated', data: {} });
    expect((await hub.request('GET', '/v1/webhook-endpoints', { key: readKey })).status).toBe(200);
    expect((await hub.request('GET', `/v1/events/${eventId}/deliveries`, { key: readKey })).status).toBe(200);
    await expectError(await hub.request('POST', '/v1/webhook-endpoints', { key: readKey, json: { url: 'https://hooks.example.com/x' } }), 403, 'forbidden');
    await expectError(await hub.request('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { key: readKey }), 403, 'forbidden');
    await expectError(await hub.request('POST', `/v1/webhook-endpoints/${endpoint.id}/replay`, { key: readKey, json: { since: '2020-01-01T00:00:00Z' } }), 403, 'forbidden');
    await expectError(await hub.request('POST', `/v1/events/${eventId}/redeliver`, { key: readKey }), 403, 'forbidden');
    await expectError(await hub.request('GET', '/v1/events'), 401, 'unauthorized');
  });

  it("answers 404 for another workspace's endpoint and event, and leaves them as they were", async () => {
    const a = await hub.workspace();
    const b = await hub.workspace();
    const theirs = await createEndpoint(b.key);
    const theirEvent = await emitEvent(hub.sql, { workspaceId: b.workspaceId, type: 'customer.updated', data: { secret: 'theirs' } });
    const at = `/v1/webhook-endpoints/${theirs.id}`;
    await expectError(await hub.request('GET', at, { key: a.key }), 404, 'not_found');
    await expectError(await hub.request('PATCH', at, { key: a.key, json: { url: 'https://evil.example.com/' } }), 404, 'not_found');
    await expectError(await hub.request('DELETE', at, { key: a.key }), 404, 'not_found');
    await expectError(await hub.request('POST', `${at}/rotate-secret`, { key: a.key }), 404, 'not_found');
    await expectError(await hub.request('POST', `${at}/replay`, { key: a.key, json: { since: '2020-01-01T00:00:00Z' } }), 404, 'not_found');
    await expectError(await hub.request('GET', `/v1/events/${theirEvent}`, { key: a.key }), 404, 'not_found');
    await expectError(await hub.request('GET', `/v1/events/${theirEvent}/deliveries`, { key: a.key }), 404, 'not_found');
    await expectError(await hub.request('POST', `/v1/events/${theirEvent}/redeliver`, { key: a.key }), 404, 'not_found');
    const mine = await createEndpoint(a.key);
    await expectError(await hub.request('POST', `/v1/events/${theirEvent}/redeliver`, { key: a.key, json: { endpoint_id: mine.id } }), 404, 'not_found');
    expect((await (await hub.request('GET', '/v1/events', { key: a.key })).json()).data).toEqual([]);

    const still = await (await hub.request('GET', at, { key: b.key })).json();
    expect(still).toMatchObject({ url: 'https://hooks.example.com/in', previous_secret_expires_at: null });
    await expectError(await hub.request('GET', '/v1/webhook-endpoints/not-a-uuid', { key: a.key }), 404, 'not_found');
    await expectError(await hub.request('GET', '/v1/events/not-an-event', { key: a.key }), 404, 'not_found');
  });

  it('refuses to replay to a disabled endpoint with 409 and says how to fix it', async () => {
    const { key } = await hub.workspace();
    const endpoint = await createEndpoint(key, { enabled: false });
    const body = await expectError(await hub.request('POST', `/v1/webhook-endpoints/${endpoint.id}/replay`, { key, json: { since: '2020-01-01T00:00:00Z' } }), 409, 'endpoint_disabled');
    expect(body.error.message).toContain('enabled');
    await expectError(await hub.request('POST', `/v1/webhook-endpoints/${endpoint.id}/replay`, { key, json: { since: 'yesterday' } }), 400, 'invalid_request');
  });

  it('cancels what a disabled endpoint had not received yet', async () => {
    const { key, workspaceId } = await hub.workspace();
    const endpoint = await createEndpoint(key);
    const eventId = await emitEvent(hub.sql, { workspaceId, type: 'customer.updated', data: {} });
    await hub.request('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { key, json: { enabled: false } });
    const deliveries = (await (await hub.request('GET', `/v1/events/${eventId}/deliveries`, { key })).json()).data;
    expect(deliveries).toEqual([expect.objectContaining({ endpoint_id: endpoint.id, status: 'cancelled', attempts: [] })]);
  });
});

describe('events', () => {
  it('pages through events newest first with next_cursor, filtering by type or group', async () => {
    const { key, workspaceId } = await hub.workspace();
    const ids: string[] = [];
    // One transaction: every event shares the same now(), so only the id orders them.
    await hub.sql.begin(async (tx) => {
      for (let n = 0; n < 5; n++) ids.push(await emitEvent(tx, { workspaceId, type: n % 2 ? 'customer.updated' : 'sync_run.completed', data: { n } }));
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await (await hub.request('GET', `/v1/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { key })).json();
      seen.push(...page.data.map((event: { id: string }) => event.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(ids));

    const customers = (await (await hub.request('GET', '/v1/events?type=customer.*', { key })).json()).data;
    expect(customers.map((event: { type: string }) => event.type)).toEqual(['customer.updated', 'customer.updated']);
    expect((await (await hub.request('GET', '/v1/events?type=sync_run.completed', { key })).json()).data).toHaveLength(3);
    expect((await (await hub.request('GET', `/v1/events?since=${new Date(Date.now() + 60_000).toISOString()}`, { key })).json()).data).toEqual([]);
    await expectError(await hub.request('GET', '/v1/events?type=nothing', { key }), 400, 'invalid_request');
  });

  it('answers 400, not 500, for a cursor it did not issue', async () => {
    const { key } = await hub.workspace();
    for (const cursor of ['garbage', Buffer.from('["2024-01-01T00:00:00Z", 1]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
      await expectError(await hub.request('GET', `/v1/events?cursor=${cursor}`, { key }), 400, 'invalid_request');
      await expectError(await hub.request('GET', `/v1/webhook-endpoints?cursor=${cursor}`, { key }), 400, 'invalid_request');
    }
  });

  it('shows an event with the envelope its webhooks carry, and its deliveries page by page', async () => {
    const { key, workspaceId } = await hub.workspace();
    for (let n = 0; n < 3; n++) await createEndpoint(key, { url: `https://hooks.example.com/${n}` });
    const eventId = await emitEvent(hub.sql, { workspaceId, type: 'customer.merged', subject: 'customer:c1', data: { id: 'c1' } });
    const event = await (await hub.request('GET', `/v1/events/${eventId}`, { key })).json();
    expect(event).toEqual({ id: eventId, type: 'customer.merged', subject: 'customer:c1', timestamp: expect.any(String), data: { id: 'c1' } });

    const first = await (await hub.request('GET', `/v1/events/${eventId}/deliveries?limit=2`, { key })).json();
    expect(first.data).toHaveLength(2);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await (await hub.request('GET', `/v1/events/${eventId}/deliveries?limit=2&cursor=${first.next_cursor}`, { key })).json();
    expect(second).toEqual({ data: [expect.objectContaining({ event_id: eventId, status: 'pending', trigger: 'event' })], next_cursor: null });
  });

  it('is in the OpenAPI document', async () => {
    const document = await (await hub.request('GET', '/openapi.json')).json();
    for (const path of ['/v1/webhook-endpoints', '/v1/webhook-endpoints/{id}', '/v1/webhook-endpoints/{id}/rotate-secret', '/v1/webhook-endpoints/{id}/replay', '/v1/events', '/v1/events/{id}', '/v1/events/{id}/deliveries', '/v1/events/{id}/redeliver']) {
      expect(document.paths[path], path).toBeDefined();
    }
  });
});
