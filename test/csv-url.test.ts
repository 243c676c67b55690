import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from './helpers/hub.js';

// A csv connection with config.url: every sync downloads the file (Bearer token from the credentials)
// through the one retry helper. The source is faked with msw; the hub API is called in-process.

const SECRET = 'tok_SECRET_abc123';
const HOST = 'https://files.example.test';

const server = setupServer();
// msw hands its lifecycle listeners a clone (a tee) of every mocked response; while that clone is unread,
// the hub's `await response.body.cancel()` before a retry never settles (mswjs/interceptors#712).
// Cancelling the clone here makes the fake source behave like a real one; the hub's copy is unaffected.
server.events.on('response:mocked', ({ response }) => {
  void response.body?.cancel();
});
let hub: TestHub;
beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'bypass' });
  hub = await createTestHub();
});
afterEach(() => {
  server.resetHandlers();
});
afterAll(async () => {
  await hub?.close();
  server.close();
});

const header = ['ID', 'Name', 'Email', 'Phone', 'Amount', 'Status'];
const client = (n: number) => [`C${n}`, `Client ${n}`, `client${n}@example.com`, `+1 555 010 ${String(n).padStart(4, '0')}`, `${n * 10}.50`, 'done'];
const csv = (...numbers: number[]) => [header, ...numbers.map(client)].map((row) => row.join(',')).join('\n') + '\n';

interface Served {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Serves `path` on the fake host: the n-th request gets responses[n] (the last one repeats).
 * Returns the Authorization header of every request it received.
 */
function serve(path: string, responses: Served[]): string[] {
  const seen: string[] = [];
  server.use(
    http.get(`${HOST}${path}`, ({ request }) => {
      const response = responses[Math.min(seen.length, responses.length - 1)];
      seen.push(request.headers.get('authorization') ?? '');
      return new HttpResponse(response.body ?? (response.status === 200 ? '' : `error ${response.status}`), {
        status: response.status,
        headers: { 'content-type': response.status === 200 ? 'text/csv' : 'text/plain', ...response.headers },
      });
    }),
  );
  return seen;
}

const ok = (...numbers: number[]): Served => ({ status: 200, body: csv(...numbers) });

/** Every response body the API gave, to check that none of them carries the secret. */
const bodies: string[] = [];

async function call(method: string, urlPath: string, key: string, json?: unknown) {
  const response = await hub.request(method, urlPath, { key, json });
  const text = await response.text();
  bodies.push(text);
  return { status: response.status, text, body: text ? JSON.parse(text) : null };
}

async function setup(path: string) {
  const { key } = await hub.workspace();
  const created = await call('POST', '/v1/connections', key, { kind: 'csv', name: 'Published sheet', config: { url: `${HOST}${path}` }, credentials: { bearer_token: SECRET } });
  expect(created.status).toBe(201);
  return { key, connectionId: created.body.id as string };
}

async function sync(key: string, connectionId: string) {
  const started = await call('POST', `/v1/connections/${connectionId}/syncs`, key);
  expect(started.status).toBe(202);
  await hub.waitForRun(key, started.body.id);
  return (await call('GET', `/v1/sync-runs/${started.body.id}`, key)).body;
}

const livePeople = async (connectionId: string) =>
  (await hub.sql<{ external_id: string }[]>`
    select external_id from canonical.source_people where connection_id = ${connectionId} and deleted_at is null order by external_id`).map((row) => row.external_id);

const logsOf = (connectionId: string) =>
  hub.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.connection_id === connectionId);

describe('csv from a URL', () => {
  it('downloads the file with the bearer token on every sync and writes its rows', async () => {
    const requests = serve('/clients.csv', [ok(1, 2, 3)]);
    const { key, connectionId } = await setup('/clients.csv');

    const run = await sync(key, connectionId);
    expect(run.status).toBe('succeeded');
    expect(requests).toEqual([`Bearer ${SECRET}`]);
    expect(run.streams.rows).toMatchObject({ read: 3, inserted: 3, quarantined: 0 });
    expect(await livePeople(connectionId)).toEqual(['C1', 'C2', 'C3']);

    // The next sync downloads again: no upload is needed for changes to arrive.
    server.resetHandlers();
    const again = serve('/clients.csv', [ok(1, 2, 3, 4)]);
    const second = await sync(key, connectionId);
    expect(second.status).toBe('succeeded');
    expect(again).toEqual([`Bearer ${SECRET}`]);
    expect(await livePeople(connectionId)).toEqual(['C1', 'C2', 'C3', 'C4']);
  });

  it('never writes the token to a log line or an API response', async () => {
    serve('/secret.csv', [ok(1, 2)]);
    const { key, connectionId } = await setup('/secret.csv');
    expect(bodies.at(-1)).toContain(connectionId); // the create response is among the bodies checked

    const connection = await call('GET', `/v1/connections/${connectionId}`, key);
    expect(connection.body).toMatchObject({ has_credentials: true, status: 'active' });
    const list = await call('GET', '/v1/connections', key);
    expect(list.body.data.map((entry: { id: string }) => entry.id)).toContain(connectionId);
    const check = await call('POST', `/v1/connections/${connectionId}/check`, key);
    expect(check.status).toBe(200);
    const run = await sync(key, connectionId);
    expect(run.status).toBe('succeeded');
    const runs = await call('GET', `/v1/sync-runs?connection_id=${connectionId}`, key);
    expect(runs.body.data).toHaveLength(1);

    // The grep is meaningful only if the hub logged this sync (it logs at debug level in tests).
    expect(logsOf(connectionId).map((entry) => entry.msg)).toContain('sync finished');
    expect(hub.logs.length).toBeGreaterThan(0);
    expect(hub.logs.filter((line) => line.includes(SECRET))).toEqual([]);
    expect(bodies.length).toBeGreaterThanOrEqual(7);
    expect(bodies.filter((body) => body.includes(SECRET))).toEqual([]);
  });

  it('never writes the token when the source refuses, fails or is retried', async () => {
    const before = bodies.length;
    serve('/leak-401.csv', [{ status: 401 }]);
    serve('/leak-404.csv', [{ status: 404 }]);
    serve('/leak-429.csv', [{ status: 429, headers: { 'retry-after': '0' } }, ok(1)]);
    const refused = await setup('/leak-401.csv');
    const missing = await setup('/leak-404.csv');
    const busy = await setup('/leak-429.csv');

    expect((await sync(refused.key, refused.connectionId)).status).toBe('failed');
    expect((await sync(missing.key, missing.connectionId)).status).toBe('failed');
    expect((await sync(busy.key, busy.connectionId)).status).toBe('succeeded');
    expect((await call('POST', `/v1/connections/${refused.connectionId}/check`, refused.key)).status).toBe(502);
    expect((await call('POST', `/v1/connections/${missing.connectionId}/check`, missing.key)).status).toBe(502);
    await call('GET', `/v1/connections/${refused.connectionId}`, refused.key);

    // The failures and the retry were logged, so the grep below looks at them.
    expect(logsOf(refused.connectionId).map((entry) => entry.msg)).toContain('sync failed');
    expect(logsOf(missing.connectionId).map((entry) => entry.msg)).toContain('sync failed');
    expect(logsOf(busy.connectionId).map((entry) => entry.msg)).toContain('source request retried');
    expect(hub.logs.filter((line) => line.includes(SECRET))).toEqual([]);
    expect(bodies.length - before).toBeGreaterThanOrEqual(12);
    expect(bodies.slice(before).filter((body) => body.includes(SECRET))).toEqual([]);
  });

  it('waits out 429 with Retry-After and succeeds, logging a warning per retry', async () => {
    const requests = serve('/busy.csv', [{ status: 429, headers: { 'retry-after': '0' } }, { status: 429, headers: { 'retry-after': '0' } }, ok(1, 2)]);
    const { key, connectionId } = await setup('/busy.csv');

    const run = await sync(key, connectionId);
    expect(run.status).toBe('succeeded');
    expect(requests).toHaveLength(3);
    expect(await livePeople(connectionId)).toEqual(['C1', 'C2']);
    const retries = logsOf(connectionId).filter((entry) => entry.msg === 'source request retried');
    // level 40 = warn; delayMs 0 = Retry-After: 0 was honoured instead of the exponential backoff.
    expect(retries.map((entry) => [entry.level, entry.status, entry.attempt, entry.delayMs])).toEqual([[40, 429, 1, 0], [40, 429, 2, 0]]);
  });

  it('retries 503 with backoff and succeeds', async () => {
    const requests = serve('/flaky.csv', [{ status: 503 }, { status: 503 }, ok(5)]);
    const { key, connectionId } = await setup('/flaky.csv');

    const run = await sync(key, connectionId);
    expect(run.status).toBe('succeeded');
    expect(requests).toHaveLength(3);
    expect(await livePeople(connectionId)).toEqual(['C5']);
    // No Retry-After: exponential backoff from 500 ms with jitter (half the cap plus up to the other half).
    const delays = logsOf(connectionId).filter((entry) => entry.msg === 'source request retried').map((entry) => entry.delayMs as number);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(250);
    expect(delays[0]).toBeLessThanOrEqual(500);
    expect(delays[1]).toBeGreaterThanOrEqual(500);
    expect(delays[1]).toBeLessThanOrEqual(1000);
  });

  it('fails a sync refused with 401, telling the owner to reconnect, and uses new credentials once given', async () => {
    serve('/revoked.csv', [{ status: 401 }]);
    const { key, connectionId } = await setup('/revoked.csv');

    const failed = await sync(key, connectionId);
    expect(failed.status).toBe('failed');
    expect(failed.error.message).toContain('HTTP 401');
    expect(failed.error.message).toMatch(/reconnect/i);

    const patched = await call('PATCH', `/v1/connections/${connectionId}`, key, { credentials: { bearer_token: 'tok_NEW_456' } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ status: 'active', status_message: null });

    server.resetHandlers();
    const requests = serve('/revoked.csv', [ok(7)]);
    const run = await sync(key, connectionId);
    expect(run.status).toBe('succeeded');
    expect(requests).toEqual(['Bearer tok_NEW_456']);
    expect(await livePeople(connectionId)).toEqual(['C7']);
  });

  it('marks the connection needs_reauth on 401 until the owner gives new credentials', async () => {
    serve('/reauth.csv', [{ status: 401 }]);
    const { key, connectionId } = await setup('/reauth.csv');

    const failed = await sync(key, connectionId);
    expect(failed.status).toBe('failed');
    const refused = (await call('GET', `/v1/connections/${connectionId}`, key)).body;
    expect(refused.status).toBe('needs_reauth');
    expect(refused.status_message).toMatch(/reconnect/i);

    const patched = await call('PATCH', `/v1/connections/${connectionId}`, key, { credentials: { bearer_token: 'tok_NEW_789' } });
    expect(patched.body).toMatchObject({ status: 'active', status_message: null });
    server.resetHandlers();
    serve('/reauth.csv', [ok(8)]);
    expect((await sync(key, connectionId)).status).toBe('succeeded');
    expect((await call('GET', `/v1/connections/${connectionId}`, key)).body.status).toBe('active');
  });

  it('fails the run naming HTTP 404 and leaves the connection active', async () => {
    const requests = serve('/missing.csv', [{ status: 404 }]);
    const { key, connectionId } = await setup('/missing.csv');

    const run = await sync(key, connectionId);
    expect(run.status).toBe('failed');
    expect(run.error.message).toContain('HTTP 404');
    expect(requests).toHaveLength(1); // a 404 is not retried
    const connection = (await call('GET', `/v1/connections/${connectionId}`, key)).body;
    expect(connection).toMatchObject({ status: 'active', status_message: null });
    expect(await livePeople(connectionId)).toEqual([]);
  });

  it('checks the URL: ok when it answers, a JSON error when it refuses the token', async () => {
    const good = serve('/check-ok.csv', [ok(1)]);
    const { key, connectionId } = await setup('/check-ok.csv');
    const check = await call('POST', `/v1/connections/${connectionId}/check`, key);
    expect(check.status).toBe(200);
    expect(check.body.ok).toBe(true);
    expect(good).toEqual([`Bearer ${SECRET}`]);

    serve('/check-401.csv', [{ status: 401 }]);
    const refused = await setup('/check-401.csv');
    const failed = await call('POST', `/v1/connections/${refused.connectionId}/check`, refused.key);
    expect(failed.status).toBeGreaterThanOrEqual(400);
    expect(failed.status).not.toBe(500);
    expect(failed.body.error.code).toBe('source_auth_failed');
    expect(failed.body.error.message).toContain('HTTP 401');
    expect(failed.text).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
  });

  it('checks the URL again after a sync, so a revoked token is reported', async () => {
    serve('/rechecked.csv', [ok(1)]);
    const { key, connectionId } = await setup('/rechecked.csv');
    expect((await sync(key, connectionId)).status).toBe('succeeded');

    server.resetHandlers();
    const requests = serve('/rechecked.csv', [{ status: 401 }]);
    const check = await call('POST', `/v1/connections/${connectionId}/check`, key);
    expect(requests).toEqual([`Bearer ${SECRET}`]);
    expect(check.status).toBe(502);
    expect(check.body.error.code).toBe('source_auth_failed');
  });
});
