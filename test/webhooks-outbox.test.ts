import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent, EVENT_TYPES } from '../src/core/events/index.js';
import { createTestHub, type TestHub } from './helpers/hub.js';

// The outbox promise: an event, its deliveries and their jobs exist exactly when the change
// that caused them committed. No worker runs here, so queued jobs stay visible.

let hub: TestHub;
beforeAll(async () => {
  hub = await createTestHub({ worker: false });
});
afterAll(async () => {
  await hub?.close();
});

async function endpoint(workspaceId: string, eventTypes: string[] = [], enabled = true): Promise<string> {
  const [row] = await hub.sql<{ id: string }[]>`
    insert into hub.webhook_endpoints (workspace_id, url, event_types, enabled, secret_encrypted)
    values (${workspaceId}, 'https://hooks.example.com/in', ${eventTypes}, ${enabled}, 'sealed')
    returning id`;
  return row.id;
}

const deliveriesOf = (eventId: string) =>
  hub.sql<{ endpoint_id: string; status: string; subject: string | null }[]>`
    select endpoint_id, status, subject from hub.webhook_deliveries where event_id = ${eventId} order by endpoint_id`;

const jobsFor = (eventId: string) =>
  hub.sql<{ key: string }[]>`
    select j.key from graphile_worker._private_jobs j join hub.webhook_deliveries d on j.key = 'webhook_delivery:' || d.id
    where d.event_id = ${eventId}`;

describe('emitEvent', () => {
  it('writes the event and one queued delivery per enabled endpoint whose filter matches', async () => {
    const { workspaceId } = await hub.workspace();
    const other = await hub.workspace();
    const all = await endpoint(workspaceId);
    const customers = await endpoint(workspaceId, ['customer.*']);
    const exact = await endpoint(workspaceId, ['customer.merged']);
    await endpoint(workspaceId, ['sync_run.completed']);
    await endpoint(workspaceId, [], false);
    await endpoint(other.workspaceId);

    const id = await hub.sql.begin((tx) => emitEvent(tx, { workspaceId, type: 'customer.merged', subject: 'customer:c1', data: { id: 'c1' } }));

    expect(id).toMatch(/^msg_[0-9A-Za-z]{27}$/);
    const [event] = await hub.sql`select type, subject, data, workspace_id from hub.events where id = ${id}`;
    expect(event).toEqual({ type: 'customer.merged', subject: 'customer:c1', data: { id: 'c1' }, workspace_id: workspaceId });
    const deliveries = await deliveriesOf(id);
    expect(deliveries.map((row) => row.endpoint_id).sort()).toEqual([all, customers, exact].sort());
    expect(deliveries.every((row) => row.status === 'pending' && row.subject === 'customer:c1')).toBe(true);
    expect(await jobsFor(id)).toHaveLength(3);
  });

  it('leaves no event, delivery or job when the change rolls back', async () => {
    const { workspaceId } = await hub.workspace();
    await endpoint(workspaceId);
    let id = '';
    await expect(
      hub.sql.begin(async (tx) => {
        id = await emitEvent(tx, { workspaceId, type: 'customer.created', data: {} });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(id).not.toBe('');
    expect(await hub.sql`select 1 from hub.events where id = ${id}`).toHaveLength(0);
    expect(await deliveriesOf(id)).toHaveLength(0);
    expect(await jobsFor(id)).toHaveLength(0);
  });

  it('keeps the event for later replay when no endpoint listens yet', async () => {
    const { workspaceId } = await hub.workspace();
    const id = await emitEvent(hub.sql, { workspaceId, type: 'metrics.updated', data: { rows: [] } });
    expect(await hub.sql`select 1 from hub.events where id = ${id}`).toHaveLength(1);
    expect(await deliveriesOf(id)).toHaveLength(0);
  });

  it('refuses a type that is not in EVENT_TYPES, so a typo never reaches a subscriber', async () => {
    const { workspaceId } = await hub.workspace();
    await expect(emitEvent(hub.sql, { workspaceId, type: 'customer.creatd', data: {} })).rejects.toThrow(/Unknown event type/);
    expect(EVENT_TYPES).toEqual(expect.arrayContaining(['customer.created', 'sync_run.completed', 'connection.needs_reauth', 'webhook_endpoint.failing']));
  });
});
