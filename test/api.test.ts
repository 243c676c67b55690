import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestHub, type TestHub } from './helpers/hub.js';

// The HTTP contract of the API, spoken only through requests (and SQL reads where the
// promise is about what is stored). This hub runs no worker, so queued runs stay queued,
// and its upload limit is tiny so the size guard can be reached.

const UPLOAD_LIMIT = 1000;
const SECRET = 's3cr3t-token-value';

let hub: TestHub;
beforeAll(async () => {
  hub = await createTestHub({ worker: false, env: { HUB_UPLOAD_MAX_BYTES: String(UPLOAD_LIMIT) } });
});
afterAll(async () => {
  await hub?.close();
});

type ErrorBody = { error: { code: string; message: string; details?: any } };

async function createConnection(key: string, body: Record<string, unknown> = {}) {
  const response = await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Clients', ...body } });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; [field: string]: unknown };
}

async function expectError(response: Response, status: number, code: string): Promise<ErrorBody> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/json');
  const body = (await response.json()) as ErrorBody;
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  return body;
}

describe('health', () => {
  it('answers /healthz with 200 and no key', async () => {
    const response = await hub.request('GET', '/healthz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200 once the database is reachable and migrations are current', async () => {
    const response = await hub.request('GET', '/readyz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', checks: { database: 'ok', migrations: 'current' } });
  });
});

describe('authentication', () => {
  it('refuses a request without an Authorization header with 401 unauthorized', async () => {
    const body = await expectError(await hub.request('GET', '/v1/connections'), 401, 'unauthorized');
    expect(body.error.message).toContain('Bearer');
  });

  it('refuses a malformed key, a non-bearer scheme and a well-formed but unknown key with 401', async () => {
    await expectError(await hub.request('GET', '/v1/connections', { key: 'not-a-key' }), 401, 'unauthorized');
    await expectError(await hub.request('GET', '/v1/connections', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, 'unauthorized');
    await expectError(await hub.request('GET', '/v1/connections', { key: `hub_${'A'.repeat(32)}` }), 401, 'unauthorized');
  });

  it('lets a read key list connections but refuses it any change with 403 forbidden', async () => {
    const { key, readKey } = await hub.workspace();
    const connection = await createConnection(key);

    const list = await hub.request('GET', '/v1/connections', { key: readKey });
    expect(list.status).toBe(200);
    expect((await list.json()).data.map((item: { id: string }) => item.id)).toEqual([connection.id]);

    await expectError(await hub.request('POST', '/v1/connections', { key: readKey, json: { kind: 'csv', name: 'Nope' } }), 403, 'forbidden');
    await expectError(await hub.request('PATCH', `/v1/connections/${connection.id}`, { key: readKey, json: { name: 'Renamed' } }), 403, 'forbidden');
    await expectError(await hub.request('DELETE', `/v1/connections/${connection.id}`, { key: readKey }), 403, 'forbidden');
    await expectError(await hub.request('POST', `/v1/connections/${connection.id}/syncs`, { key: readKey }), 403, 'forbidden');

    const [row] = await hub.sql`select name, deleted_at from hub.connections where id = ${connection.id}`;
    expect(row).toEqual({ name: 'Clients', deleted_at: null });
    const [{ count }] = await hub.sql`select count(*)::int as count from hub.connections where workspace_id = (select workspace_id from hub.connections where id = ${connection.id})`;
    expect(count).toBe(1);
  });
});

describe('workspace isolation', () => {
  it("answers 404 not_found for every operation on another workspace's connection and leaves it untouched", async () => {
    const a = await hub.workspace();
    const b = await hub.workspace();
    const theirs = await createConnection(b.key, { name: 'B clients' });
    const path = `/v1/connections/${theirs.id}`;

    await expectError(await hub.request('GET', path, { key: a.key }), 404, 'not_found');
    await expectError(await hub.request('PATCH', path, { key: a.key, json: { name: 'Hijacked' } }), 404, 'not_found');
    await expectError(await hub.request('DELETE', path, { key: a.key }), 404, 'not_found');
    await expectError(await hub.request('POST', `${path}/check`, { key: a.key }), 404, 'not_found');
    await expectError(await hub.request('POST', `${path}/syncs`, { key: a.key }), 404, 'not_found');
    await expectError(await hub.request('POST', `${path}/files`, { key: a.key, body: 'ID,Name\n1,Ann\n', headers: { 'content-type': 'text/csv' } }), 404, 'not_found');

    const still = await hub.request('GET', path, { key: b.key });
    expect(still.status).toBe(200);
    expect((await still.json()).name).toBe('B clients');
    const [{ runs }] = await hub.sql`select count(*)::int as runs from hub.sync_runs where connection_id = ${theirs.id}`;
    const [{ files }] = await hub.sql`select count(*)::int as files from hub.files where connection_id = ${theirs.id}`;
    expect({ runs, files }).toEqual({ runs: 0, files: 0 });
  });

  it("answers 404 for another workspace's sync run", async () => {
    const a = await hub.workspace();
    const b = await hub.workspace();
    const theirs = await createConnection(b.key);
    const started = await hub.request('POST', `/v1/connections/${theirs.id}/syncs`, { key: b.key });
    expect(started.status).toBe(202);
    const run = await started.json();

    await expectError(await hub.request('GET', `/v1/sync-runs/${run.id}`, { key: a.key }), 404, 'not_found');
    expect((await hub.request('GET', `/v1/sync-runs/${run.id}`, { key: b.key })).status).toBe(200);
    const list = await (await hub.request('GET', '/v1/sync-runs', { key: a.key })).json();
    expect(list.data).toEqual([]);
  });

  it("never lists another workspace's connections", async () => {
    const a = await hub.workspace();
    const b = await hub.workspace();
    const mine = await createConnection(a.key, { name: 'Mine' });
    await createConnection(b.key, { name: 'Theirs 1' });
    await createConnection(b.key, { name: 'Theirs 2' });

    const list = await (await hub.request('GET', '/v1/connections', { key: a.key })).json();
    expect(list.data.map((item: { id: string; name: string }) => [item.id, item.name])).toEqual([[mine.id, 'Mine']]);
  });

  it('answers 404, not 500, for an id that is not a uuid', async () => {
    const { key } = await hub.workspace();
    await expectError(await hub.request('GET', '/v1/connections/not-a-uuid', { key }), 404, 'not_found');
    await expectError(await hub.request('PATCH', '/v1/connections/not-a-uuid', { key, json: { name: 'x' } }), 404, 'not_found');
    await expectError(await hub.request('DELETE', '/v1/connections/not-a-uuid', { key }), 404, 'not_found');
    await expectError(await hub.request('POST', '/v1/connections/not-a-uuid/syncs', { key }), 404, 'not_found');
    await expectError(await hub.request('GET', '/v1/sync-runs/not-a-uuid', { key }), 404, 'not_found');
  });
});

describe('request validation', () => {
  it('answers 400 invalid_request listing each zod issue when the name is missing', async () => {
    const { key } = await hub.workspace();
    const body = await expectError(await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv' } }), 400, 'invalid_request');
    expect(body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'name', code: expect.any(String), message: expect.any(String) })]));
    expect(body.error.message).toContain('name');
  });

  it('reports every problem of a body at once', async () => {
    const { key } = await hub.workspace();
    const body = await expectError(await hub.request('POST', '/v1/connections', { key, json: { name: '   ' } }), 400, 'invalid_request');
    const paths = body.error.details.map((issue: { path: string }) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['kind', 'name']));
  });

  it('answers 400 naming the known kinds for an unknown connector kind', async () => {
    const { key } = await hub.workspace();
    const body = await expectError(await hub.request('POST', '/v1/connections', { key, json: { kind: 'salesforce', name: 'CRM' } }), 400, 'invalid_request');
    expect(body.error.message).toContain('salesforce');
    expect(body.error.message).toMatch(/Known kinds:.*\bcsv\b/);
  });

  it("answers 400 with the issues when the config does not match the connector's schema", async () => {
    const { key } = await hub.workspace();
    const body = await expectError(await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Clients', config: { delimiter: 'x' } } }), 400, 'invalid_request');
    expect(body.error.message).toContain('delimiter');
    expect(body.error.details).toEqual([expect.objectContaining({ path: ['delimiter'] })]);

    const unknownKey = await expectError(await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Clients', config: { sheet: 'A' } } }), 400, 'invalid_request');
    expect(unknownKey.error.message).toContain('sheet');
  });

  it('answers 400 for an unknown top-level field instead of ignoring it', async () => {
    const { key } = await hub.workspace();
    const body = await expectError(await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Clients', colour: 'blue' } }), 400, 'invalid_request');
    expect(JSON.stringify(body.error.details)).toContain('colour');
    const list = await (await hub.request('GET', '/v1/connections', { key })).json();
    expect(list.data).toEqual([]);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const { key } = await hub.workspace();
    const response = await hub.request('POST', '/v1/connections', { key, body: '{"kind": "csv", ', headers: { 'content-type': 'application/json' } });
    await expectError(response, 400, 'invalid_request');
  });

  it('answers 400 for an invalid PATCH and keeps the connection as it was', async () => {
    const { key } = await hub.workspace();
    const connection = await createConnection(key, { config: { delimiter: ';' } });
    await expectError(await hub.request('PATCH', `/v1/connections/${connection.id}`, { key, json: { config: { delimiter: 'x' } } }), 400, 'invalid_request');
    await expectError(await hub.request('PATCH', `/v1/connections/${connection.id}`, { key, json: { kind: 'other' } }), 400, 'invalid_request');
    const current = await (await hub.request('GET', `/v1/connections/${connection.id}`, { key })).json();
    expect(current.kind).toBe('csv');
    expect(current.config.delimiter).toBe(';');
  });
});

describe('credentials', () => {
  it('are never returned by any read, only has_credentials: true', async () => {
    const { key } = await hub.workspace();
    const created = await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Published sheet', config: { url: 'https://example.com/clients.csv' }, credentials: { bearer_token: SECRET } } });
    expect(created.status).toBe(201);
    const createdText = await created.text();
    expect(createdText).not.toContain(SECRET);
    const connection = JSON.parse(createdText);
    expect(connection.has_credentials).toBe(true);
    expect(connection).not.toHaveProperty('credentials');

    const one = await hub.request('GET', `/v1/connections/${connection.id}`, { key });
    const oneText = await one.text();
    expect(oneText).not.toContain(SECRET);
    expect(JSON.parse(oneText).has_credentials).toBe(true);

    const list = await hub.request('GET', '/v1/connections', { key });
    const listText = await list.text();
    expect(listText).not.toContain(SECRET);
    expect(JSON.parse(listText).data).toEqual([expect.objectContaining({ id: connection.id, has_credentials: true })]);

    const patched = await hub.request('PATCH', `/v1/connections/${connection.id}`, { key, json: { name: 'Renamed sheet' } });
    const patchedText = await patched.text();
    expect(patchedText).not.toContain(SECRET);
    expect(JSON.parse(patchedText)).toMatchObject({ name: 'Renamed sheet', has_credentials: true });

    expect(hub.logs.some((line) => line.includes(SECRET))).toBe(false);
  });

  it('are stored encrypted, never in clear', async () => {
    const { key } = await hub.workspace();
    const connection = await createConnection(key, { credentials: { bearer_token: SECRET } });
    const [row] = await hub.sql<{ credentials_encrypted: string | null }[]>`select credentials_encrypted from hub.connections where id = ${connection.id}`;
    expect(row.credentials_encrypted).toEqual(expect.any(String));
    expect(row.credentials_encrypted).not.toContain(SECRET);
    expect(row.credentials_encrypted).not.toContain(Buffer.from(SECRET).toString('base64'));
    expect(row.credentials_encrypted).not.toContain(Buffer.from(SECRET).toString('hex'));
  });

  it('shows has_credentials: false for a connection without any', async () => {
    const { key } = await hub.workspace();
    const connection = await createConnection(key);
    expect(connection.has_credentials).toBe(false);
  });

  it('refuses credentials of the wrong shape with 400 and stores nothing', async () => {
    const { key } = await hub.workspace();
    const body = await expectError(await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Clients', credentials: { password: SECRET } } }), 400, 'invalid_request');
    expect(JSON.stringify(body)).not.toContain(SECRET);
    const list = await (await hub.request('GET', '/v1/connections', { key })).json();
    expect(list.data).toEqual([]);
  });
});

describe('cursor pagination', () => {
  it('returns a single page with next_cursor null when everything fits', async () => {
    const { key } = await hub.workspace();
    await createConnection(key);
    await createConnection(key);
    const page = await (await hub.request('GET', '/v1/connections?limit=2', { key })).json();
    expect(page.data).toHaveLength(2);
    expect(page.next_cursor).toBeNull();
  });

  it('answers 400 for a cursor it did not issue', async () => {
    const { key } = await hub.workspace();
    await expectError(await hub.request('GET', '/v1/connections?cursor=garbage!!', { key }), 400, 'invalid_request');
    await expectError(await hub.request('GET', '/v1/sync-runs?cursor=garbage!!', { key }), 400, 'invalid_request');
    await expectError(await hub.request('GET', '/v1/quarantine?cursor=garbage!!', { key }), 400, 'invalid_request');
  });

  async function walk(key: string, listPath: string, limit: number) {
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const response = await hub.request('GET', `${listPath}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { key });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { data: { id: string }[]; next_cursor: string | null };
      pages.push(page.data.map((row) => row.id));
      cursor = page.next_cursor;
    } while (cursor && pages.length < 10);
    return pages;
  }

  it('walks connections created within one millisecond page by page, each exactly once', async () => {
    const { key } = await hub.workspace();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createConnection(key, { name: `c${i}` })).id);
    // Microseconds apart inside one millisecond, plus two that tie exactly (the id breaks the tie).
    const stamps = ['00.000101', '00.000102', '00.000103', '00.000104', '00.000104'];
    for (const [i, id] of ids.entries()) {
      await hub.sql`update hub.connections set created_at = ${`2026-01-01T00:00:${stamps[i]}Z`}::text::timestamptz where id = ${id}`;
    }
    const pages = await walk(key, '/v1/connections', 2);
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat().sort()).toEqual([...ids].sort());
    const singles = await walk(key, '/v1/connections', 1);
    expect(singles.flat().sort()).toEqual([...ids].sort());
  });

  it('walks sync runs requested within one millisecond, newest first, each exactly once', async () => {
    const { key } = await hub.workspace();
    const runIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const connection = await createConnection(key, { name: `r${i}` });
      const response = await hub.request('POST', `/v1/connections/${connection.id}/syncs`, { key, json: {} });
      expect(response.status).toBe(202);
      runIds.push(((await response.json()) as { id: string }).id);
    }
    for (const [i, id] of runIds.entries()) {
      await hub.sql`update hub.sync_runs set requested_at = ${`2026-01-01T00:00:00.00050${i}Z`}::text::timestamptz where id = ${id}`;
    }
    const pages = await walk(key, '/v1/sync-runs', 1);
    expect(pages.flat()).toEqual([...runIds].reverse());
  });

  it('answers 400, not 500, for a well-encoded cursor of the wrong shape', async () => {
    const { key } = await hub.workspace();
    for (const shape of [[], [1, 2], ['not a time', 'not a uuid'], { a: 1 }, ['2026-01-01T00:00:00Z', 5]]) {
      const cursor = Buffer.from(JSON.stringify(shape)).toString('base64url');
      await expectError(await hub.request('GET', `/v1/connections?cursor=${cursor}`, { key }), 400, 'invalid_request');
      await expectError(await hub.request('GET', `/v1/sync-runs?cursor=${cursor}`, { key }), 400, 'invalid_request');
      await expectError(await hub.request('GET', `/v1/quarantine?cursor=${cursor}`, { key }), 400, 'invalid_request');
    }
  });

  it('answers 400 for a limit outside 1–200', async () => {
    const { key } = await hub.workspace();
    await expectError(await hub.request('GET', '/v1/connections?limit=0', { key }), 400, 'invalid_request');
    await expectError(await hub.request('GET', '/v1/connections?limit=201', { key }), 400, 'invalid_request');
    await expectError(await hub.request('GET', '/v1/connections?limit=many', { key }), 400, 'invalid_request');
  });
});

describe('starting a sync', () => {
  it('queues the first request with 202 and refuses a second with 409 sync_in_progress naming the running run', async () => {
    const { key } = await hub.workspace();
    const connection = await createConnection(key);

    const first = await hub.request('POST', `/v1/connections/${connection.id}/syncs`, { key });
    expect(first.status).toBe(202);
    const run = await first.json();
    expect(run).toMatchObject({ connection_id: connection.id, status: 'queued', trigger: 'api' });

    const second = await expectError(await hub.request('POST', `/v1/connections/${connection.id}/syncs`, { key }), 409, 'sync_in_progress');
    expect(second.error.details).toEqual({ sync_run_id: run.id });

    const fetched = await (await hub.request('GET', `/v1/sync-runs/${run.id}`, { key })).json();
    expect(fetched).toMatchObject({ id: run.id, status: 'queued' });
    const [{ count }] = await hub.sql`select count(*)::int as count from hub.sync_runs where connection_id = ${connection.id}`;
    expect(count).toBe(1);
  });

  it('refuses to delete a connection while its sync is queued, with 409 naming the run', async () => {
    const { key } = await hub.workspace();
    const connection = await createConnection(key);
    const run = await (await hub.request('POST', `/v1/connections/${connection.id}/syncs`, { key })).json();

    const refused = await expectError(await hub.request('DELETE', `/v1/connections/${connection.id}`, { key }), 409, 'sync_in_progress');
    expect(refused.error.details).toEqual({ sync_run_id: run.id });
    expect((await hub.request('GET', `/v1/connections/${connection.id}`, { key })).status).toBe(200);
  });

  it('answers 400 for unknown sync options', async () => {
    const { key } = await hub.workspace();
    const connection = await createConnection(key);
    await expectError(await hub.request('POST', `/v1/connections/${connection.id}/syncs`, { key, json: { full_refresh: true } }), 400, 'invalid_request');
    await expectError(await hub.request('POST', `/v1/connections/${connection.id}/syncs`, { key, json: { file_id: 'not-a-uuid' } }), 400, 'invalid_request');
    const [{ count }] = await hub.sql`select count(*)::int as count from hub.sync_runs where connection_id = ${connection.id}`;
    expect(count).toBe(0);
  });
});

describe('file upload', () => {
  const filesOf = async (connectionId: string) => (await hub.sql`select id from hub.files where connection_id = ${connectionId}`).length;
  const storedUploads = (workspaceId: string, connectionId: string) => {
    const directory = path.join(hub.dataDir, 'uploads', workspaceId, connectionId);
    return fs.existsSync(directory) ? fs.readdirSync(directory) : [];
  };

  it('stores a file within the limit and answers 201 with its size and hash', async () => {
    const { key } = await hub.workspace();
    const connection = await createConnection(key);
    const content = 'ID,Name\nC1,Ann\n';
    const response = await hub.request('POST', `/v1/connections/${connection.id}/files?filename=clients.csv`, { key, body: content, headers: { 'content-type': 'text/csv' } });
    expect(response.status).toBe(201);
    const { file, sync_run } = await response.json();
    expect(file).toMatchObject({ filename: 'clients.csv', size_bytes: Buffer.byteLength(content) });
    expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(sync_run).toBeNull();
    expect(await filesOf(connection.id)).toBe(1);
  });

  it('answers 413 file_too_large for a streamed body over HUB_UPLOAD_MAX_BYTES and keeps no file', async () => {
    const { key, workspaceId } = await hub.workspace();
    const connection = await createConnection(key);
    const body = Buffer.from('ID,Name\n' + 'C1,Somebody with a long name\n'.repeat(100));
    expect(body.length).toBeGreaterThan(UPLOAD_LIMIT);

    const refused = await expectError(await hub.request('POST', `/v1/connections/${connection.id}/files`, { key, body, headers: { 'content-type': 'text/csv' } }), 413, 'file_too_large');
    expect(refused.error.message).toContain('HUB_UPLOAD_MAX_BYTES');
    expect(refused.error.details).toEqual({ limit_bytes: UPLOAD_LIMIT }); // stopped while streaming, no content-length was sent
    expect(await filesOf(connection.id)).toBe(0);
    expect(storedUploads(workspaceId, connection.id)).toEqual([]);
  });

  it('answers 413 file_too_large at once when the declared content-length is over the limit', async () => {
    const { key } = await hub.workspace();
    const connection = await createConnection(key);
    const body = Buffer.alloc(UPLOAD_LIMIT + 1, 'a');
    const response = await hub.request('POST', `/v1/connections/${connection.id}/files`, { key, body, headers: { 'content-type': 'text/csv', 'content-length': String(body.length) } });
    await expectError(response, 413, 'file_too_large');
    expect(await filesOf(connection.id)).toBe(0);
  });

  it('answers 400 for an empty body and keeps no file', async () => {
    const { key } = await hub.workspace();
    const connection = await createConnection(key);
    const empty = await hub.request('POST', `/v1/connections/${connection.id}/files`, { key, body: '', headers: { 'content-type': 'text/csv' } });
    expect(empty.status).toBe(400);
    expect((await empty.json()).error.message).toMatch(/empty|no body/i);
    const none = await hub.request('POST', `/v1/connections/${connection.id}/files`, { key, headers: { 'content-type': 'text/csv' } });
    expect(none.status).toBe(400);
    expect(await filesOf(connection.id)).toBe(0);
  });
});

describe('API description', () => {
  it('serves an OpenAPI 3.1 document with the main paths and a bearer security scheme', async () => {
    const response = await hub.request('GET', '/openapi.json');
    expect(response.status).toBe(200);
    const document = await response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/connections', '/v1/connections/{id}/syncs', '/v1/sync-runs/{id}', '/v1/quarantine']));
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.paths['/v1/connections'].post.security).toEqual([{ bearer: [] }]);
  });

  it('serves a human-readable reference at /docs', async () => {
    const response = await hub.request('GET', '/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('/v1/connections');
    expect(html).toContain('/openapi.json');
  });

  it('lists the csv connector with the JSON schema of its config', async () => {
    const { readKey } = await hub.workspace();
    const response = await hub.request('GET', '/v1/connectors', { key: readKey });
    expect(response.status).toBe(200);
    const { data } = await response.json();
    const csv = data.find((connector: { kind: string }) => connector.kind === 'csv');
    expect(csv).toBeDefined();
    expect(csv.reads_files).toBe(true);
    expect(csv.config_schema.type).toBe('object');
    expect(Object.keys(csv.config_schema.properties)).toEqual(expect.arrayContaining(['key_column', 'columns']));
    expect(csv.credentials_schema.properties).toHaveProperty('bearer_token');
  });

  it('answers an unknown route with a 404 JSON error', async () => {
    const body = await expectError(await hub.request('GET', '/no-such-page'), 404, 'not_found');
    expect(body.error.message).toContain('/no-such-page');
    const { key } = await hub.workspace();
    await expectError(await hub.request('GET', '/v1/no-such-resource', { key }), 404, 'not_found');
  });
});

describe('deleting a connection', () => {
  let workerHub: TestHub;
  beforeAll(async () => {
    workerHub = await createTestHub();
  });
  afterAll(async () => {
    await workerHub?.close();
  });

  it('answers 204, then 404, and turns its records into tombstones instead of removing them', async () => {
    const { key } = await workerHub.workspace();
    const created = await workerHub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Clients' } });
    expect(created.status).toBe(201);
    const { id } = await created.json();
    const upload = await workerHub.request('POST', `/v1/connections/${id}/files?filename=clients.csv&sync=true`, {
      key, body: 'ID,Name,Email\nC1,Ann Lee,ann@example.com\nC2,Bob Ray,bob@example.com\nC3,Cy Dee,cy@example.com\n', headers: { 'content-type': 'text/csv' },
    });
    expect(upload.status).toBe(201);
    const { sync_run } = await upload.json();
    const run = await workerHub.waitForRun(key, sync_run.id);
    expect(run.status).toBe('succeeded');
    const live = await workerHub.sql`select external_id from hub.source_records where connection_id = ${id} and deleted_at is null order by external_id`;
    expect(live.map((row) => row.external_id)).toEqual(['C1', 'C2', 'C3']);

    const deleted = await workerHub.request('DELETE', `/v1/connections/${id}`, { key });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');

    await expectError(await workerHub.request('GET', `/v1/connections/${id}`, { key }), 404, 'not_found');
    await expectError(await workerHub.request('DELETE', `/v1/connections/${id}`, { key }), 404, 'not_found');
    await expectError(await workerHub.request('POST', `/v1/connections/${id}/syncs`, { key }), 404, 'not_found');
    const list = await (await workerHub.request('GET', '/v1/connections', { key })).json();
    expect(list.data).toEqual([]);

    const records = await workerHub.sql`select external_id, deleted_at is not null as tombstoned from hub.source_records where connection_id = ${id} order by external_id`;
    expect(records).toEqual([
      { external_id: 'C1', tombstoned: true },
      { external_id: 'C2', tombstoned: true },
      { external_id: 'C3', tombstoned: true },
    ]);
    const people = await workerHub.sql`select external_id, deleted_at is not null as tombstoned from canonical.source_people where connection_id = ${id} order by external_id`;
    expect(people).toEqual([
      { external_id: 'C1', tombstoned: true },
      { external_id: 'C2', tombstoned: true },
      { external_id: 'C3', tombstoned: true },
    ]);
    const [connection] = await workerHub.sql`select deleted_at is not null as tombstoned from hub.connections where id = ${id}`;
    expect(connection).toEqual({ tombstoned: true });
  });
});
