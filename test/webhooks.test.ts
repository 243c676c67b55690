import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../src/core/events/index.js';
import { MAX_ATTEMPTS, useWebhookResolver } from '../src/core/webhooks/index.js';
import { createTestHub, type TestHub } from './helpers/hub.js';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.js';

// Webhooks out, through the real path: a change commits → outbox → graphile-worker job → a
// signed POST to a real local receiver that verifies it with the `standardwebhooks` library.
// The receiver is on 127.0.0.1, so this hub allows private addresses and http (the SSRF guard
// has its own spec file). The retry schedule is scaled down 100 000×: the whole three-day
// window takes about 2.5 s here, in the same steps. 6 delivery workers, 3 per endpoint.

let hub: TestHub;
let receiver: Receiver;
let canary: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  canary = await startReceiver();
  hub = await createTestHub({
    env: { HUB_ALLOW_PRIVATE_WEBHOOKS: 'true', HUB_ALLOW_HTTP_WEBHOOKS: 'true', HUB_WEBHOOK_RETRY_SCALE: '0.00001', HUB_WEBHOOK_CONCURRENCY: '6', HUB_WEBHOOK_ENDPOINT_CONCURRENCY: '3' },
  });
  // Only for the DNS spec below: a name the system resolver does not know.
  useWebhookResolver(hub.context, async (hostname) => {
    if (hostname === 'receiver.hub.test') return [{ address: '127.0.0.1', family: 4 }];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  });
});
afterAll(async () => {
  await hub?.close();
  await receiver?.close();
  await canary?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let paths = 0;
const newPath = (name: string) => `/${name}-${++paths}`;

async function createEndpoint(key: string, path: string, body: Record<string, unknown> = {}, on: Receiver = receiver) {
  const response = await hub.request('POST', '/v1/webhook-endpoints', { key, json: { url: on.url(path), ...body } });
  expect(response.status).toBe(201);
  const endpoint = await response.json();
  expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  on.verifyWith(path, endpoint.secret);
  return endpoint as { id: string; secret: string; [field: string]: unknown };
}

const emit = (workspaceId: string, type: string, data: unknown, subject?: string) => hub.sql.begin((tx) => emitEvent(tx, { workspaceId, type, data, subject }));

async function deliveriesOf(key: string, eventId: string) {
  const response = await hub.request('GET', `/v1/events/${eventId}/deliveries`, { key });
  expect(response.status).toBe(200);
  return (await response.json()).data as any[];
}

async function settled(key: string, eventId: string, count = 1) {
  for (let i = 0; i < 300; i++) {
    const deliveries = await deliveriesOf(key, eventId);
    if (deliveries.length >= count && deliveries.every((delivery) => ['succeeded', 'failed', 'cancelled'].includes(delivery.status))) return deliveries;
    await sleep(50);
  }
  throw new Error(`deliveries of ${eventId} did not settle`);
}

describe('a change produces one signed event', () => {
  it('delivers exactly one sync_run.completed when a CSV sync completes, with a signature standardwebhooks accepts', async () => {
    const { key } = await hub.workspace();
    const path = newPath('sync');
    await createEndpoint(key, path, { event_types: ['sync_run.*'] });
    const connection = await (await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Clients' } })).json();
    const upload = await hub.request('POST', `/v1/connections/${connection.id}/files?filename=clients.csv&sync=true`, { key, body: 'ID,Name,Email\n1,Ann Lee,ann@example.com\n', headers: { 'content-type': 'text/csv' } });
    const { sync_run: run } = await upload.json();
    expect((await hub.waitForRun(key, run.id)).status).toBe('succeeded');

    await receiver.waitFor('the sync_run.completed delivery', () => receiver.on2xx(path).length === 1);
    await sleep(500); // nothing else arrives
    const [delivery] = receiver.received.filter((entry) => entry.path === path);
    expect(receiver.received.filter((entry) => entry.path === path)).toHaveLength(1);
    expect(delivery.verifiedWith).toHaveLength(1);
    expect(delivery.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(delivery.payload).toEqual({ type: 'sync_run.completed', timestamp: expect.any(String), data: expect.objectContaining({ id: run.id, connection_id: connection.id, status: 'succeeded' }) });

    const events = (await (await hub.request('GET', '/v1/events?type=sync_run.completed', { key })).json()).data;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ id: delivery.id, type: 'sync_run.completed', subject: `connection:${connection.id}`, timestamp: delivery.payload.timestamp });
    const [logged] = await settled(key, delivery.id);
    expect(logged).toMatchObject({ status: 'succeeded', attempt_count: 1, trigger: 'event' });
    expect(logged.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'succeeded', status_code: 200, latency_ms: expect.any(Number) })]);
  });

  it('delivers sync_run.failed when a sync fails', async () => {
    const { key } = await hub.workspace();
    const path = newPath('sync-failed');
    await createEndpoint(key, path, { event_types: ['sync_run.failed'] });
    const connection = await (await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Nothing uploaded' } })).json();
    const run = await (await hub.request('POST', `/v1/connections/${connection.id}/syncs`, { key })).json();
    expect((await hub.waitForRun(key, run.id)).status).toBe('failed');
    await receiver.waitFor('sync_run.failed', () => receiver.on2xx(path).length === 1);
    expect(receiver.on2xx(path)[0].payload).toMatchObject({ type: 'sync_run.failed', data: { id: run.id, error: { code: 'no_file' } } });
  });

  it('delivers connection.needs_reauth once when a source refuses the credentials, not once per failing sync', async () => {
    const { key } = await hub.workspace();
    const path = newPath('reauth');
    receiver.on('/source.csv', () => ({ status: 401, body: 'token revoked' }));
    await createEndpoint(key, path, { event_types: ['connection.needs_reauth'] });
    const connection = await (await hub.request('POST', '/v1/connections', {
      key, json: { kind: 'csv', name: 'Published sheet', config: { url: receiver.url('/source.csv') }, credentials: { bearer_token: 'tok_revoked' } },
    })).json();
    for (let n = 0; n < 2; n++) {
      const run = await (await hub.request('POST', `/v1/connections/${connection.id}/syncs`, { key })).json();
      expect((await hub.waitForRun(key, run.id)).status).toBe('failed');
    }
    await receiver.waitFor('the needs_reauth event', () => receiver.on2xx(path).length === 1);
    await sleep(300);
    expect(receiver.on2xx(path)).toHaveLength(1);
    const { payload } = receiver.on2xx(path)[0];
    expect(payload).toMatchObject({ type: 'connection.needs_reauth', data: { id: connection.id, status: 'needs_reauth', status_message: expect.any(String), has_credentials: true } });
    expect(JSON.stringify(payload)).not.toContain('tok_revoked');
  });

  it('sends nothing for an event type the endpoint did not subscribe to', async () => {
    const { key, workspaceId } = await hub.workspace();
    const path = newPath('filtered');
    await createEndpoint(key, path, { event_types: ['customer.merged'] });
    const skipped = await emit(workspaceId, 'customer.updated', { id: 'c1' });
    const sent = await emit(workspaceId, 'customer.merged', { id: 'c1' });
    await receiver.waitFor('the merged event', () => receiver.on2xx(path).length === 1);
    expect(receiver.on2xx(path)[0].id).toBe(sent);
    expect(await deliveriesOf(key, skipped)).toEqual([]);
  });
});

describe('retries', () => {
  it('retries a 500 and delivers once, with the same webhook-id and a fresh signature', async () => {
    const { key, workspaceId } = await hub.workspace();
    const path = newPath('flaky');
    receiver.on(path, ({ n }) => (n === 1 ? { status: 500, body: 'database is down' } : { status: 204 }));
    await createEndpoint(key, path);
    const id = await emit(workspaceId, 'customer.updated', { id: 'c1', name: 'Ann' });

    await receiver.waitFor('the retried delivery', () => receiver.on2xx(path).length === 1);
    await sleep(300);
    const requests = receiver.received.filter((entry) => entry.path === path);
    expect(requests.map((entry) => [entry.id, entry.status])).toEqual([[id, 500], [id, 204]]);
    expect(requests.every((entry) => entry.verifiedWith.length === 1)).toBe(true);
    const [delivery] = await settled(key, id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempt_count: 2, last_status_code: 204 });
    expect(delivery.attempts.map((attempt: any) => [attempt.outcome, attempt.status_code, attempt.response_snippet])).toEqual([['failed', 500, 'database is down'], ['succeeded', 204, '']]);
  });

  it('honours Retry-After even when the schedule would try sooner', async () => {
    const { key, workspaceId } = await hub.workspace();
    const path = newPath('busy');
    receiver.on(path, ({ n }) => (n === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }));
    await createEndpoint(key, path);
    await emit(workspaceId, 'customer.updated', { id: 'c1' });
    await receiver.waitFor('the second attempt', () => receiver.on2xx(path).length === 1);
    const [first, second] = receiver.received.filter((entry) => entry.path === path);
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
  });

  it('treats a redirect as a failure and never follows it, not even to an allowed address', async () => {
    const { key, workspaceId } = await hub.workspace();
    const path = newPath('redirect');
    receiver.on(path, () => ({ status: 302, headers: { location: canary.url('/internal') } }));
    await createEndpoint(key, path);
    const id = await emit(workspaceId, 'customer.updated', { id: 'c1' });
    const [delivery] = await settled(key, id);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempts).toHaveLength(MAX_ATTEMPTS);
    expect(delivery.attempts[0]).toMatchObject({ outcome: 'failed', status_code: 302, error: expect.stringContaining('not followed') });
    expect(canary.received).toEqual([]);
  });

  it('marks an endpoint failing after a whole window of failures, says so in an event, and keeps the others flowing', async () => {
    const { key, workspaceId } = await hub.workspace();
    const down = newPath('down');
    const up = newPath('up');
    receiver.on(down, () => ({ status: 500 }));
    const failing = await createEndpoint(key, down, { event_types: ['customer.*'] });
    await createEndpoint(key, up);
    const ids = [];
    for (let n = 0; n < 3; n++) ids.push(await emit(workspaceId, 'customer.updated', { id: `c${n}` }));

    // The healthy endpoint gets everything while the other one is still retrying.
    await receiver.waitFor('the healthy endpoint', () => receiver.on2xx(up).length === 3, 5000);
    const [meanwhile] = await hub.sql`select count(*)::int as open from hub.webhook_deliveries where endpoint_id = ${failing.id} and status in ('pending', 'sending', 'waiting')`;
    expect(meanwhile.open).toBeGreaterThan(0);

    await receiver.waitFor('the failing event', () => receiver.on2xx(up).some((entry) => entry.payload.type === 'webhook_endpoint.failing'), 20_000);
    const notice = receiver.on2xx(up).find((entry) => entry.payload.type === 'webhook_endpoint.failing')!;
    expect(notice.payload.data).toMatchObject({ endpoint: { id: failing.id, status: 'failing' }, failing_since: expect.any(String), last_error: 'The endpoint answered 500.' });
    const endpoint = await (await hub.request('GET', `/v1/webhook-endpoints/${failing.id}`, { key })).json();
    expect(endpoint).toMatchObject({ status: 'failing', enabled: true, failing_since: expect.any(String) });
    const [delivery] = (await settled(key, ids[0], 2)).filter((entry: any) => entry.endpoint_id === failing.id);
    expect(delivery).toMatchObject({ status: 'failed', attempt_count: MAX_ATTEMPTS });
    // One notice for the endpoint, however many deliveries ran out.
    await sleep(500);
    expect(receiver.on2xx(up).filter((entry) => entry.payload.type === 'webhook_endpoint.failing')).toHaveLength(1);
  });

  it('disables an endpoint that answers 410 Gone and sends it nothing more', async () => {
    const { key, workspaceId } = await hub.workspace();
    const gone = newPath('gone');
    receiver.on(gone, () => ({ status: 410 }));
    const endpoint = await createEndpoint(key, gone);
    const first = await emit(workspaceId, 'customer.updated', { id: 'c1' });
    const [delivery] = await settled(key, first);
    expect(delivery).toMatchObject({ status: 'failed', attempt_count: 1, last_status_code: 410 });

    const after = await (await hub.request('GET', `/v1/webhook-endpoints/${endpoint.id}`, { key })).json();
    expect(after).toMatchObject({ enabled: false, disabled_reason: expect.stringContaining('410') });
    const later = await emit(workspaceId, 'customer.updated', { id: 'c2' });
    await sleep(300);
    expect(await deliveriesOf(key, later)).toEqual([]);
    expect(receiver.received.filter((entry) => entry.path === gone)).toHaveLength(1);
    const disabled = (await (await hub.request('GET', '/v1/events?type=webhook_endpoint.disabled', { key })).json()).data;
    expect(disabled).toEqual([expect.objectContaining({ data: expect.objectContaining({ endpoint: expect.objectContaining({ id: endpoint.id, enabled: false }) }) })]);
  });
});

describe('ordering', () => {
  it('delivers the events of one subject in order even when the first needs retries, without holding up other subjects', async () => {
    const { key, workspaceId } = await hub.workspace();
    const path = newPath('ordered');
    const firstId: string[] = [];
    receiver.on(path, ({ id, n }) => (id === firstId[0] && n <= 3 ? { status: 500 } : { status: 200 }));
    await createEndpoint(key, path);
    firstId.push(await emit(workspaceId, 'customer.updated', { id: 'c1', version: 1 }, 'customer:c1'));
    await emit(workspaceId, 'customer.updated', { id: 'c1', version: 2 }, 'customer:c1');
    await emit(workspaceId, 'customer.merged', { id: 'c1', version: 3 }, 'customer:c1');
    await emit(workspaceId, 'customer.updated', { id: 'c2', version: 1 }, 'customer:c2');

    await receiver.waitFor('all four', () => receiver.on2xx(path).length === 4);
    const delivered = receiver.on2xx(path).map((entry) => `${entry.payload.data.id}@${entry.payload.data.version}`);
    expect(delivered.filter((entry) => entry.startsWith('c1@'))).toEqual(['c1@1', 'c1@2', 'c1@3']);
    // The other customer did not wait for c1's retries.
    expect(delivered.indexOf('c2@1')).toBeLessThan(delivered.indexOf('c1@1'));
  });
});

describe('fairness', () => {
  it('gives a slow endpoint at most HUB_WEBHOOK_ENDPOINT_CONCURRENCY requests at once, so the others go on', async () => {
    const { key, workspaceId } = await hub.workspace();
    const slow = newPath('slow');
    const fast = newPath('fast');
    receiver.on(slow, () => ({ status: 200, delayMs: 400 }));
    await createEndpoint(key, slow, { event_types: ['customer.*'] });
    await createEndpoint(key, fast, { event_types: ['sync_run.completed'] });
    await hub.sql.begin(async (tx) => {
      for (let n = 0; n < 20; n++) await emitEvent(tx, { workspaceId, type: 'customer.updated', data: { n } });
    });
    await sleep(50);
    const emitted = Date.now();
    await emit(workspaceId, 'sync_run.completed', { id: 'r1' });

    await receiver.waitFor('the fast endpoint', () => receiver.on2xx(fast).length === 1);
    // Not behind the slow endpoint's 20 × 400 ms: its cap (3 of the 6 workers) left room.
    expect(receiver.on2xx(fast)[0].at - emitted).toBeLessThan(350);
    await receiver.waitFor('every slow delivery', () => receiver.on2xx(slow).length === 20, 15_000);
    expect(receiver.maxInFlight(slow)).toBe(hub.context.config.HUB_WEBHOOK_ENDPOINT_CONCURRENCY);
    const unfinished = async () => (await hub.sql`select count(*)::int as n from hub.webhook_deliveries d join hub.webhook_endpoints e on e.id = d.endpoint_id where e.url like ${`%${slow}`} and d.status <> 'succeeded'`)[0].n;
    for (let i = 0; i < 50 && (await unfinished()) > 0; i++) await sleep(50);
    expect(await unfinished()).toBe(0);
  });
});

describe('secret rotation', () => {
  it('signs with both secrets for the overlap, and with the new one only after it', async () => {
    const { key, workspaceId } = await hub.workspace();
    const path = newPath('rotated');
    const endpoint = await createEndpoint(key, path);
    const rotated = await (await hub.request('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { key })).json();
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(Date.parse(rotated.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    receiver.verifyWith(path, endpoint.secret, rotated.secret);

    await emit(workspaceId, 'customer.updated', { id: 'c1' });
    await receiver.waitFor('the delivery during the overlap', () => receiver.on2xx(path).length === 1);
    const during = receiver.on2xx(path)[0];
    expect(during.signature.split(' ')).toHaveLength(2);
    expect(during.verifiedWith.sort()).toEqual([endpoint.secret, rotated.secret].sort());

    await hub.sql`update hub.webhook_endpoints set previous_secret_expires_at = now() - interval '1 second' where id = ${endpoint.id}`;
    await emit(workspaceId, 'customer.updated', { id: 'c2' });
    await receiver.waitFor('the delivery after the overlap', () => receiver.on2xx(path).length === 2);
    expect(receiver.on2xx(path)[1].verifiedWith).toEqual([rotated.secret]);
  });

  it('never shows a secret again after creation or rotation', async () => {
    const { key } = await hub.workspace();
    const endpoint = await createEndpoint(key, newPath('secret'));
    const listed = JSON.stringify(await (await hub.request('GET', '/v1/webhook-endpoints', { key })).json());
    const one = JSON.stringify(await (await hub.request('GET', `/v1/webhook-endpoints/${endpoint.id}`, { key })).json());
    expect(listed).not.toContain(endpoint.secret.slice(6));
    expect(one).not.toContain('secret"');
    const [row] = await hub.sql`select secret_encrypted from hub.webhook_endpoints where id = ${endpoint.id}`;
    expect(row.secret_encrypted).not.toContain(endpoint.secret.slice(6));
    expect(hub.logs.join('\n')).not.toContain(endpoint.secret.slice(6));
  });
});

describe('replay and redeliver', () => {
  it('replays exactly the events since T that the endpoint subscribes to, with their original ids', async () => {
    const { key, workspaceId } = await hub.workspace();
    const before = [await emit(workspaceId, 'customer.created', { n: 1 }), await emit(workspaceId, 'customer.updated', { n: 2 })];
    await sleep(20);
    const since = new Date().toISOString();
    await sleep(20);
    const after = [await emit(workspaceId, 'customer.updated', { n: 3 }), await emit(workspaceId, 'sync_run.completed', { n: 4 }), await emit(workspaceId, 'customer.merged', { n: 5 })];

    const path = newPath('replay');
    const endpoint = await createEndpoint(key, path, { event_types: ['customer.*'] });
    const replay = await hub.request('POST', `/v1/webhook-endpoints/${endpoint.id}/replay`, { key, json: { since } });
    expect(replay.status).toBe(202);
    expect(await replay.json()).toEqual({ events: 2 });

    await receiver.waitFor('the replayed events', () => receiver.on2xx(path).length === 2);
    await sleep(300);
    // Events without a subject carry no order; the set is the promise.
    expect(receiver.received.filter((entry) => entry.path === path).map((entry) => entry.id).sort()).toEqual([after[0], after[2]].sort());
    expect(receiver.on2xx(path).every((entry) => entry.verifiedWith.length === 1)).toBe(true);
    expect(before).toHaveLength(2);
  });

  it('redelivers one event with the same webhook-id', async () => {
    const { key, workspaceId } = await hub.workspace();
    const path = newPath('redeliver');
    await createEndpoint(key, path);
    const id = await emit(workspaceId, 'customer.updated', { id: 'c1' });
    await receiver.waitFor('the first delivery', () => receiver.on2xx(path).length === 1);
    const response = await hub.request('POST', `/v1/events/${id}/redeliver`, { key });
    expect(response.status).toBe(202);
    expect((await response.json()).deliveries).toEqual([expect.objectContaining({ event_id: id, trigger: 'redeliver' })]);
    await receiver.waitFor('the redelivery', () => receiver.on2xx(path).length === 2);
    expect(receiver.on2xx(path).map((entry) => entry.id)).toEqual([id, id]);
    expect(receiver.on2xx(path)[1].body).toBe(receiver.on2xx(path)[0].body);
  });
});

describe('connecting', () => {
  it('connects to the address it resolved and checked, not to a second lookup, keeping the host name', async () => {
    const { key, workspaceId } = await hub.workspace();
    const path = newPath('by-name');
    const response = await hub.request('POST', '/v1/webhook-endpoints', { key, json: { url: `http://receiver.hub.test:${receiver.port}${path}` } });
    receiver.verifyWith(path, (await response.json()).secret);
    await emit(workspaceId, 'customer.updated', { id: 'c1' });
    await receiver.waitFor('the delivery by name', () => receiver.on2xx(path).length === 1);
    expect(receiver.on2xx(path)[0].host).toBe(`receiver.hub.test:${receiver.port}`);
    expect(receiver.on2xx(path)[0].verifiedWith).toHaveLength(1);
  });
});
