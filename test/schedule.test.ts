import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestScheduledSyncs } from '../src/core/ingest/index.js';
import { createTestHub, type TestHub } from './helpers/hub.js';

// Connections with a schedule get a sync when their interval has passed (the worker's minute tick calls this).

let hub: TestHub;
beforeAll(async () => {
  hub = await createTestHub({ worker: false });
});
afterAll(async () => {
  await hub?.close();
});

describe('scheduled syncs', () => {
  it('starts one sync for a due connection, none while it is queued, and none for unscheduled ones', async () => {
    const { key } = await hub.workspace();
    const scheduled = await (await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Hourly', schedule: { every_minutes: 60 } } })).json();
    const manual = await (await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Manual' } })).json();
    expect(scheduled.schedule).toEqual({ every_minutes: 60 });

    expect(await requestScheduledSyncs(hub.context)).toBe(1);
    expect(await requestScheduledSyncs(hub.context)).toBe(0);

    const runs = await (await hub.request('GET', `/v1/sync-runs?connection_id=${scheduled.id}`, { key })).json();
    expect(runs.data.map((run: { trigger: string; status: string }) => [run.trigger, run.status])).toEqual([['schedule', 'queued']]);
    const none = await (await hub.request('GET', `/v1/sync-runs?connection_id=${manual.id}`, { key })).json();
    expect(none.data).toEqual([]);
  });

  it('waits for the interval after the last run before starting another', async () => {
    const { key } = await hub.workspace();
    const connection = await (await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Every 5', schedule: { every_minutes: 5 } } })).json();
    await requestScheduledSyncs(hub.context);
    // The run finished 2 minutes ago: not due yet. Then 6 minutes ago: due.
    await hub.sql`update hub.sync_runs set status = 'succeeded', requested_at = now() - interval '2 minutes' where connection_id = ${connection.id}`;
    await requestScheduledSyncs(hub.context);
    expect((await hub.sql`select count(*)::int as n from hub.sync_runs where connection_id = ${connection.id}`)[0].n).toBe(1);
    await hub.sql`update hub.sync_runs set requested_at = now() - interval '6 minutes' where connection_id = ${connection.id}`;
    await requestScheduledSyncs(hub.context);
    expect((await hub.sql`select count(*)::int as n from hub.sync_runs where connection_id = ${connection.id}`)[0].n).toBe(2);
  });

  it('rejects a schedule shorter than five minutes', async () => {
    const { key } = await hub.workspace();
    const response = await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Too eager', schedule: { every_minutes: 1 } } });
    expect(response.status).toBe(400);
    expect((await response.json()).error.code).toBe('invalid_request');
  });
});
