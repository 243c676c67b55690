import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueDerive } from '../src/core/ingest/changes.js';
import { refreshRollups } from '../src/core/rollups/index.js';
import type { Sql } from '../src/db/index.js';
import { createTestHub, type TestHub } from './helpers/hub.js';

// Metric rollups through the real path: people through a csv connection (reconciled into
// golden customers), other facts written into the canonical tables the way a connector
// writes them (with the derive job queued in the same transaction), the derive job, and
// /v1/metrics out. Every expected number is worked out by hand in a comment.

let hub: TestHub;
beforeAll(async () => {
  hub = await createTestHub();
});
afterAll(async () => {
  await hub?.close();
});

function csv(rows: string[][]): string {
  return rows.map((row) => row.join(',')).join('\n') + '\n';
}

/** A csv connection with these people (ID, Name, Phone), synced and reconciled. */
async function people(key: string, workspaceId: string, name: string, rows: string[][]): Promise<string> {
  const created = await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name, config: {} } });
  expect(created.status).toBe(201);
  const connectionId = (await created.json()).id as string;
  const upload = await hub.request('POST', `/v1/connections/${connectionId}/files?filename=people.csv&sync=true`, {
    key, body: csv([['ID', 'Name', 'Phone'], ...rows]), headers: { 'content-type': 'text/csv' },
  });
  expect(upload.status).toBe(201);
  const run = await hub.waitForRun(key, (await upload.json()).sync_run.id);
  expect(run.status).toBe('succeeded');
  await settled(workspaceId);
  return connectionId;
}

let externalSeq = 0;
/** Writes facts as a connector does: a source record each, the fact, and the derive job, in one transaction. */
async function facts(workspaceId: string, connectionId: string, table: string, rows: Record<string, unknown>[]): Promise<number[]> {
  return hub.sql.begin(async (transaction) => {
    const tx = transaction as unknown as Sql;
    const ids: number[] = [];
    for (const row of rows) {
      const externalId = String(row.external_id ?? `${table}-${++externalSeq}`);
      const [{ id }] = await tx<{ id: string }[]>`
        insert into hub.source_records (workspace_id, connection_id, stream, external_id, data, hash)
        values (${workspaceId}, ${connectionId}, ${table}, ${externalId}, ${tx.json(row as never)}, md5(${externalId}))
        returning id`;
      const { external_id: _ignored, ...fields } = row;
      await tx`insert into ${tx(`canonical.${table}`)} ${tx({ source_record_id: Number(id), workspace_id: workspaceId, connection_id: connectionId, external_id: externalId, ...fields } as never)}`;
      ids.push(Number(id));
    }
    await enqueueDerive(tx, workspaceId);
    return ids;
  });
}

async function settled(workspaceId: string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const [{ pending }] = await hub.sql<{ pending: number }[]>`
      select (select count(*) from hub.fact_changes where workspace_id = ${workspaceId})
        + (select count(*) from hub.rollup_dirty where workspace_id = ${workspaceId})
        + (select count(*) from graphile_worker.jobs where queue_name = ${`derive:${workspaceId}`}) as pending`;
    if (Number(pending) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const jobs = await hub.sql`select task_identifier, attempts, last_error from graphile_worker.jobs where queue_name = ${`derive:${workspaceId}`}`;
  throw new Error(`rollups did not catch up within 30 s: ${JSON.stringify(jobs)}`);
}

async function metric(key: string, query: string): Promise<any[]> {
  const response = await hub.request('GET', `/v1/metrics?limit=200&${query}`, { key });
  const body = await response.json();
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body.data;
}

/** { period_start → value } of one metric series, for compact expectations. */
const series = (rows: any[]) => Object.fromEntries(rows.map((row) => [row.period_start, row.value]));

async function patchWorkspace(key: string, settings: Record<string, unknown>) {
  const response = await hub.request('PATCH', '/v1/workspace', { key, json: { settings } });
  expect(response.status, JSON.stringify(await response.clone().json())).toBe(200);
}

describe('revenue, average check, days to pay and purchase frequency', () => {
  it('counts a payment at 23:30 local time in that local day and month, per currency, net of refunds', async () => {
    const { key, workspaceId } = await hub.workspace();
    await patchWorkspace(key, { time_zone: 'Europe/Moscow' }); // UTC+3 all year
    const sheet = await people(key, workspaceId, 'Clients', [['p1', 'Иван Петров', '+7 916 123-45-67'], ['p2', 'Анна Смирнова', '+7 903 000-11-22']]);
    await facts(workspaceId, sheet, 'payments', [
      // 2026-03-31 23:30 Moscow → March 31 (UTC it is still the 31st, 20:30)
      { customer_ref: 'p1', amount: 10_000, currency: 'RUB', paid_at: new Date('2026-03-31T20:30:00Z') },
      // 2026-04-01 00:30 Moscow → April, although it is March 31 in UTC
      { customer_ref: 'p1', amount: 5_000, currency: 'RUB', paid_at: new Date('2026-03-31T21:30:00Z') },
      // 20,000 with 5,000 refunded → 15,000 net in March
      { customer_ref: 'p2', amount: 20_000, refunded_amount: 5_000, currency: 'RUB', paid_at: new Date('2026-03-10T10:00:00Z') },
      // another currency: never summed with RUB
      { customer_ref: 'p2', amount: 10_000, currency: 'USD', paid_at: new Date('2026-03-15T10:00:00Z') },
    ]);
    await facts(workspaceId, sheet, 'invoices', [
      // issued 10 days before payment
      { customer_ref: 'p1', status: 'paid', amount_due: 10_000, amount_paid: 10_000, currency: 'RUB', issued_at: new Date('2026-03-21T20:30:00Z'), paid_at: new Date('2026-03-31T20:30:00Z') },
      // issued 4 days before payment
      { customer_ref: 'p2', status: 'paid', amount_due: 20_000, amount_paid: 20_000, currency: 'RUB', issued_at: new Date('2026-03-06T10:00:00Z'), paid_at: new Date('2026-03-10T10:00:00Z') },
    ]);
    await settled(workspaceId);

    // March RUB = 10,000 + 15,000 = 25,000 (2 payments); April RUB = 5,000; March USD = 10,000.
    const revenue = await metric(key, 'metric=revenue&grain=month');
    expect(revenue.map((row) => [row.period_start, row.currency, row.value, row.count])).toEqual([
      ['2026-03-01', 'RUB', 25_000, 2],
      ['2026-03-01', 'USD', 10_000, 1],
      ['2026-04-01', 'RUB', 5_000, 1],
    ]);
    expect(revenue[0]).toMatchObject({ period_end: '2026-03-31', inputs: { refunded: 5_000 } });
    // The local day: March 31 holds only the 23:30 payment.
    expect(series(await metric(key, 'metric=revenue&grain=day&currency=RUB&from=2026-03-31&to=2026-04-01'))).toEqual({ '2026-03-31': 10_000, '2026-04-01': 5_000 });

    // Average check, March RUB: 25,000 revenue / 2 paid invoices = 12,500.
    expect(await metric(key, 'metric=average_check&grain=month&currency=RUB')).toMatchObject([{ period_start: '2026-03-01', value: 12_500, inputs: { numerator: 25_000, denominator: 2 } }]);
    // Days to pay in March: 10 and 4 → median 7, p90 = 4 + 0.9 × 6 = 9.4.
    const [days] = await metric(key, 'metric=days_to_pay&grain=month');
    expect(days.value).toBeCloseTo(7, 6);
    expect(days.inputs.p90).toBeCloseTo(9.4, 6);
    // 2 paid invoices of 2 paying customers.
    expect(series(await metric(key, 'metric=purchase_frequency&grain=month'))).toEqual({ '2026-03-01': 1 });

    // Per customer: Иван paid 10,000 RUB in March.
    const customers = await (await hub.request('GET', '/v1/customers?q=Петров', { key })).json();
    const ivan = customers.data[0].id;
    expect(series(await metric(key, `metric=revenue&grain=month&dimension=customer&dimension_value=${ivan}&currency=RUB`))).toEqual({ '2026-03-01': 10_000, '2026-04-01': 5_000 });
  });

  it('moves a payment between periods when a late change alters its date, and recomputes only those periods', async () => {
    const { key, workspaceId } = await hub.workspace();
    const sheet = await people(key, workspaceId, 'Clients', [['p1', 'Oleg Sokolov', '+7 916 555-00-01']]);
    const [paymentId] = await facts(workspaceId, sheet, 'payments', [
      { customer_ref: 'p1', amount: 7_000, currency: 'EUR', paid_at: new Date('2026-01-15T12:00:00Z') },
      { customer_ref: 'p1', amount: 1_000, currency: 'EUR', paid_at: new Date('2026-06-15T12:00:00Z') },
    ]);
    await settled(workspaceId);
    const [{ before }] = await hub.sql<{ before: Date }[]>`select max(updated_at) as before from canonical.metric_rollups where workspace_id = ${workspaceId} and period_start = '2026-06-01' and grain = 'month'`;
    await hub.sql.begin(async (tx) => {
      await tx`update canonical.payments set paid_at = '2026-02-10T12:00:00Z', refunded_amount = 2000 where source_record_id = ${paymentId}`;
      await enqueueDerive(tx as never, workspaceId);
    });
    await settled(workspaceId);
    // January is empty now; February has 7,000 − 2,000; June untouched.
    expect(series(await metric(key, 'metric=revenue&grain=month'))).toEqual({ '2026-02-01': 5_000, '2026-06-01': 1_000 });
    const [{ after }] = await hub.sql<{ after: Date }[]>`select max(updated_at) as after from canonical.metric_rollups where workspace_id = ${workspaceId} and period_start = '2026-06-01' and grain = 'month' and metric = 'revenue'`;
    expect(after.getTime()).toBe(before.getTime());
    // The change went out as a metrics.updated event naming the removed January row.
    const [event] = await hub.sql<{ data: any }[]>`
      select data from hub.events where workspace_id = ${workspaceId} and type = 'metrics.updated' and data->>'grain' = 'month' order by created_at desc limit 1`;
    expect(event.data.removed).toContainEqual(expect.objectContaining({ metric: 'revenue', period_start: '2026-01-01', dimension: 'workspace', currency: 'EUR' }));
    expect(event.data.rows).toContainEqual(expect.objectContaining({ metric: 'revenue', period_start: '2026-02-01', dimension: 'workspace', currency: 'EUR', value: 5_000 }));
  });
});

describe('customers: active, new, returning, retention — golden customers, not source duplicates', () => {
  it('a merge of two customers changes active customers, and its split restores them', async () => {
    const { key, workspaceId } = await hub.workspace();
    // Two records the hub keeps apart (nothing in common) — the admin knows they are one client.
    const sheet = await people(key, workspaceId, 'Clients', [['a', 'Maria Lopez', '+34 600 000 001'], ['b', 'M. Lopez-Garcia', '+34 600 000 002']]);
    await facts(workspaceId, sheet, 'payments', [
      { customer_ref: 'a', amount: 100, currency: 'EUR', paid_at: new Date('2026-01-10T12:00:00Z') },
      { customer_ref: 'a', amount: 100, currency: 'EUR', paid_at: new Date('2026-02-10T12:00:00Z') },
      { customer_ref: 'b', amount: 100, currency: 'EUR', paid_at: new Date('2026-02-20T12:00:00Z') },
    ]);
    await settled(workspaceId);
    // February: a (paid in January too → returning) and b (first payment → new): active 2.
    // Retention in February: January's only customer, a, paid again → 1/1.
    const month = async (name: string) => series(await metric(key, `metric=${name}&grain=month`));
    expect(await month('active_customers')).toEqual({ '2026-01-01': 1, '2026-02-01': 2 });
    expect(await month('new_customers')).toEqual({ '2026-01-01': 1, '2026-02-01': 1 });
    expect(await month('returning_customers')).toEqual({ '2026-01-01': 0, '2026-02-01': 1 });
    expect(await month('retention_rate')).toEqual({ '2026-02-01': 1, '2026-03-01': 0 });

    const list = (await (await hub.request('GET', '/v1/customers?limit=10', { key })).json()).data;
    expect(list).toHaveLength(2);
    const merged = await hub.request('POST', '/v1/customers/merge', { key, json: { ids: list.map((customer: any) => customer.id) } });
    expect(merged.status).toBe(200);
    const survivor = await merged.json();
    await settled(workspaceId);
    // One client now: February has 1 active customer, returning (first paid in January), none new.
    expect(await month('active_customers')).toEqual({ '2026-01-01': 1, '2026-02-01': 1 });
    expect(await month('new_customers')).toEqual({ '2026-01-01': 1, '2026-02-01': 0 });
    expect(await month('returning_customers')).toEqual({ '2026-01-01': 0, '2026-02-01': 1 });

    const absorbed = survivor.records.find((record: any) => record.link.rule === 'admin').source_record_id;
    const split = await hub.request('POST', `/v1/customers/${survivor.id}/split`, { key, json: { source_record_ids: [absorbed] } });
    expect(split.status).toBe(200);
    await settled(workspaceId);
    expect(await month('active_customers')).toEqual({ '2026-01-01': 1, '2026-02-01': 2 });
    expect(await month('new_customers')).toEqual({ '2026-01-01': 1, '2026-02-01': 1 });
  });
});

describe('first response time', () => {
  it('measures calendar time, or business hours when set, across the DST change week, per ISO week', async () => {
    const { key, workspaceId } = await hub.workspace();
    await patchWorkspace(key, { time_zone: 'Europe/Berlin' }); // CET → CEST on Sunday 2026-03-29
    const mail = (await (await hub.request('POST', '/v1/connections', { key, json: { kind: 'csv', name: 'Mail', config: {} } })).json()).id;
    await facts(workspaceId, mail, 'messages', [
      // t1: client writes Friday 27 March 17:00 CET (16:00Z); we answer Monday 30 March 10:00 CEST (08:00Z).
      { thread_ref: 't1', direction: 'inbound', sent_at: new Date('2026-03-27T16:00:00Z') },
      { thread_ref: 't1', direction: 'outbound', sent_at: new Date('2026-03-30T08:00:00Z') },
      // t2 starts with our own mail (Tue 31 March 09:00 CEST); the client replies at 10:00, we answer at 10:30.
      { thread_ref: 't2', direction: 'outbound', sent_at: new Date('2026-03-31T07:00:00Z') },
      { thread_ref: 't2', direction: 'inbound', sent_at: new Date('2026-03-31T08:00:00Z') },
      { thread_ref: 't2', direction: 'outbound', sent_at: new Date('2026-03-31T08:30:00Z') },
      // t3: Sunday 29 March 23:30 CEST (21:30Z) → still the week of 23 March; never answered.
      { thread_ref: 't3', direction: 'inbound', sent_at: new Date('2026-03-29T21:30:00Z') },
      // t4: Monday 30 March 00:30 CEST (22:30Z on the 29th) → the week of 30 March; never answered.
      { thread_ref: 't4', direction: 'inbound', sent_at: new Date('2026-03-29T22:30:00Z') },
    ]);
    await settled(workspaceId);
    // Calendar time: t1 = 16:00Z Fri → 08:00Z Mon = 64 h = 230,400 s; t2 = 30 min = 1,800 s.
    expect(series(await metric(key, 'metric=first_response_time&grain=week'))).toEqual({ '2026-03-23': 230_400, '2026-03-30': 1_800 });
    expect(series(await metric(key, 'metric=unanswered_threads&grain=week'))).toEqual({ '2026-03-23': 1, '2026-03-30': 1 });

    // Business hours Mon–Fri 09:00–18:00: t1 = Fri 17:00–18:00 + Mon 09:00–10:00 = 7,200 s; t2 unchanged.
    await patchWorkspace(key, { business_hours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' } });
    await settled(workspaceId);
    // Setting the hours kept the time zone.
    expect((await (await hub.request('GET', '/v1/workspace', { key })).json()).settings).toMatchObject({ time_zone: 'Europe/Berlin', business_hours: { start: '09:00' } });
    expect(series(await metric(key, 'metric=first_response_time&grain=week'))).toEqual({ '2026-03-23': 7_200, '2026-03-30': 1_800 });
    // The month holds both: median of 7,200 and 1,800 = 4,500; mean 4,500; p90 = 1,800 + 0.9 × 5,400 = 6,660.
    const [march] = await metric(key, 'metric=first_response_time&grain=month');
    expect(march).toMatchObject({ value: 4_500, count: 2, inputs: { mean: 4_500, p90: 6_660 } });

    // A late reply to t3 (Monday 09:30 CEST) answers it: 23:30 Sunday → 09:00 Monday is outside the hours, so 30 min.
    await facts(workspaceId, mail, 'messages', [{ thread_ref: 't3', direction: 'outbound', sent_at: new Date('2026-03-30T07:30:00Z') }]);
    await settled(workspaceId);
    expect(series(await metric(key, 'metric=unanswered_threads&grain=week'))).toEqual({ '2026-03-23': 0, '2026-03-30': 1 });
    // Week of 23 March: 7,200 and 1,800 → median 4,500.
    expect(series(await metric(key, 'metric=first_response_time&grain=week'))).toEqual({ '2026-03-23': 4_500, '2026-03-30': 1_800 });
  });
});

describe('jobs, tasks, costs, satisfaction and overdue invoices', () => {
  it('computes turnaround, completion rates, cost per job, csat, ownerless work and overdue invoices', async () => {
    const { key, workspaceId } = await hub.workspace();
    const sheet = await people(key, workspaceId, 'Clients', [['c1', 'Pavel Orlov', '+7 916 700-00-01']]);
    await facts(workspaceId, sheet, 'deals', [
      // Completed in 24 h and 72 h, one lost; all closed in May 2026 (UTC workspace).
      { customer_ref: 'c1', owner: 'olga', status: 'completed', amount: 30_000, currency: 'RUB', created_at: new Date('2026-05-01T10:00:00Z'), closed_at: new Date('2026-05-02T10:00:00Z') },
      { customer_ref: 'c1', owner: 'olga', status: 'won', amount: 50_000, currency: 'RUB', created_at: new Date('2026-05-03T10:00:00Z'), closed_at: new Date('2026-05-06T10:00:00Z') },
      { customer_ref: 'c1', owner: 'ivan', status: 'lost', amount: 90_000, currency: 'RUB', created_at: new Date('2026-05-04T10:00:00Z'), closed_at: new Date('2026-05-10T10:00:00Z') },
      // Open, nobody owns it: created in May.
      { customer_ref: 'c1', status: 'open', created_at: new Date('2026-05-20T10:00:00Z') },
    ]);
    await facts(workspaceId, sheet, 'costs', [{ amount: 16_000, currency: 'RUB', incurred_at: new Date('2026-05-15T10:00:00Z') }]);
    await facts(workspaceId, sheet, 'tasks', [
      { owner: 'olga', status: 'completed', due_at: new Date('2026-05-10T18:00:00Z'), completed_at: new Date('2026-05-10T12:00:00Z') },
      { owner: 'olga', status: 'completed', due_at: new Date('2026-05-11T18:00:00Z'), completed_at: new Date('2026-05-12T09:00:00Z') },
      { status: 'open', due_at: new Date('2026-05-20T18:00:00Z') },
      { status: 'canceled', due_at: new Date('2026-05-21T18:00:00Z') },
    ]);
    await facts(workspaceId, sheet, 'satisfaction_responses', [
      { customer_ref: 'c1', score: 5, scale: 5, answered_at: new Date('2026-05-05T10:00:00Z') },
      { customer_ref: 'c1', score: 6, scale: 10, answered_at: new Date('2026-05-06T10:00:00Z') },
    ]);
    await facts(workspaceId, sheet, 'invoices', [
      // Overdue: due in April, unpaid, 30,000 due with 10,000 paid → 20,000 outstanding.
      { customer_ref: 'c1', status: 'open', amount_due: 30_000, amount_paid: 10_000, currency: 'RUB', issued_at: new Date('2026-04-01T10:00:00Z'), due_at: new Date('2026-04-15T10:00:00Z') },
      // Not overdue: paid.  Not overdue: void.  Not overdue yet: due far in the future.
      { customer_ref: 'c1', status: 'paid', amount_due: 5_000, amount_paid: 5_000, currency: 'RUB', issued_at: new Date('2026-04-01T10:00:00Z'), due_at: new Date('2026-04-10T10:00:00Z'), paid_at: new Date('2026-04-20T10:00:00Z') },
      { customer_ref: 'c1', status: 'void', amount_due: 7_000, currency: 'RUB', issued_at: new Date('2026-04-01T10:00:00Z'), due_at: new Date('2026-04-10T10:00:00Z') },
      { customer_ref: 'c1', status: 'open', amount_due: 9_000, currency: 'RUB', issued_at: new Date('2026-04-01T10:00:00Z'), due_at: new Date('2099-04-10T10:00:00Z') },
    ]);
    await settled(workspaceId);
    const may = async (name: string, extra = '') => (await metric(key, `metric=${name}&grain=month&from=2026-05-01&to=2026-05-31${extra}`))[0];

    // Turnaround of completed jobs: 24 h and 72 h → median 48, p90 = 24 + 0.9 × 48 = 67.2.
    expect(await may('job_turnaround_time')).toMatchObject({ value: 48, count: 2, inputs: { p90: 67.2, mean: 48 } });
    // 2 completed of 3 closed.
    expect((await may('completion_rate')).value).toBeCloseTo(2 / 3, 10);
    expect(await may('closed_jobs')).toMatchObject({ value: 3 });
    // Average won/completed amount: (30,000 + 50,000) / 2.
    expect(await may('average_deal_amount')).toMatchObject({ value: 40_000, currency: 'RUB' });
    // Per owner: olga completed both of hers; ivan none of his one.
    expect(series(await metric(key, 'metric=completion_rate&grain=month&dimension=owner&dimension_value=olga'))).toEqual({ '2026-05-01': 1 });
    expect(series(await metric(key, 'metric=completion_rate&grain=month&dimension=owner&dimension_value=ivan'))).toEqual({ '2026-05-01': 0 });
    // Cost per job: 16,000 / 2 completed = 8,000.
    expect(await may('cost_per_job')).toMatchObject({ value: 8_000, currency: 'RUB' });
    // Tasks due in May, canceled excluded: 3; on time: 1 → 1/3. One open with no owner.
    expect(await may('tasks_due')).toMatchObject({ value: 3 });
    expect((await may('task_completion_rate')).value).toBeCloseTo(1 / 3, 10);
    expect(await may('ownerless_open_tasks')).toMatchObject({ value: 1 });
    expect(await may('ownerless_open_deals')).toMatchObject({ value: 1 });
    // CSAT: 5/5 = 1 and 6/10 = 0.6 → 0.8; mean raw score 5.5.
    expect(await may('csat')).toMatchObject({ value: 0.8, count: 2, inputs: { mean_score: 5.5 } });
    // Overdue: only the April invoice, 20,000 outstanding.
    expect(await metric(key, 'metric=overdue_invoices&grain=month')).toMatchObject([{ period_start: '2026-04-01', value: 1, currency: 'RUB', inputs: { amount: 20_000 } }]);
  });
});

describe('the API', () => {
  it('refuses bad queries with 400 and details, pages with a cursor, and lists the definitions', async () => {
    const { key, readKey, workspaceId } = await hub.workspace();
    const sheet = await people(key, workspaceId, 'Clients', [['c1', 'Pavel Orlov', '+7 916 700-00-02']]);
    await facts(workspaceId, sheet, 'payments', Array.from({ length: 5 }, (_, day) => ({ customer_ref: 'c1', amount: 100 * (day + 1), currency: 'USD', paid_at: new Date(`2026-07-0${day + 1}T12:00:00Z`) })));
    await settled(workspaceId);

    const first = await (await hub.request('GET', '/v1/metrics?metric=revenue&grain=day&limit=2', { key: readKey })).json();
    expect(first.data.map((row: any) => row.value)).toEqual([100, 200]);
    const second = await (await hub.request('GET', `/v1/metrics?metric=revenue&grain=day&limit=2&cursor=${first.next_cursor}`, { key: readKey })).json();
    expect(second.data.map((row: any) => row.value)).toEqual([300, 400]);
    const third = await (await hub.request('GET', `/v1/metrics?metric=revenue&grain=day&limit=2&cursor=${second.next_cursor}`, { key: readKey })).json();
    expect(third.data.map((row: any) => row.value)).toEqual([500]);
    expect(third.next_cursor).toBeNull();

    for (const [query, message] of [
      ['metric=profit', /metric/],
      ['metric=revenue&grain=year', /grain/],
      ['metric=revenue&from=2026-07-10&to=2026-07-01', /from must not be after to/],
      ['metric=first_response_time&dimension=owner', /not kept by owner/],
      ['metric=active_customers&currency=USD', /no currency/],
      ['metric=revenue&currency=usd', /ISO 4217/],
      ['metric=revenue&grain=day&dimension=customer', /kept by month/],
    ] as const) {
      const response = await hub.request('GET', `/v1/metrics?${query}`, { key });
      expect(response.status, query).toBe(400);
      expect(JSON.stringify(await response.json()), query).toMatch(message);
    }
    expect((await hub.request('GET', '/v1/metrics?metric=revenue')).status).toBe(401);
    expect((await hub.request('PATCH', '/v1/workspace', { key: readKey, json: { settings: { time_zone: 'UTC' } } })).status).toBe(403);
    const badZone = await hub.request('PATCH', '/v1/workspace', { key, json: { settings: { time_zone: 'Mars/Olympus' } } });
    expect(badZone.status).toBe(400);

    const definitions = await (await hub.request('GET', '/v1/metrics/definitions', { key: readKey })).json();
    const names = definitions.data.map((definition: any) => definition.name);
    for (const name of ['revenue', 'average_check', 'purchase_frequency', 'retention_rate', 'first_response_time', 'job_turnaround_time', 'completion_rate', 'overdue_invoices', 'days_to_pay', 'cost_per_job', 'csat', 'ownerless_open_tasks']) expect(names).toContain(name);
    expect(definitions.data.every((definition: any) => definition.definition.length > 20)).toBe(true);
  });
});

describe('incremental equals a full rebuild', () => {
  it('gives identical rows after a bulk statement of more than 20,000 payments (every customer marked) as a rebuild', async () => {
    const { key, workspaceId } = await hub.workspace();
    const sheet = await people(key, workspaceId, 'Clients', Array.from({ length: 6 }, (_, n) => [`b${n}`, `Bulk Client${String.fromCharCode(65 + n)} Person${String.fromCharCode(75 - n)}`, `+1 646 555 ${String(2000 + n)}`]));
    await facts(workspaceId, sheet, 'payments', Array.from({ length: 6 }, (_, n) => ({ customer_ref: `b${n}`, amount: 100, currency: 'USD', paid_at: new Date(Date.UTC(2026, 5, 1 + n)) })));
    await settled(workspaceId);
    const before = await metric(key, 'metric=new_customers&grain=month');
    expect(series(before)).toEqual({ '2026-06-01': 6 });
    // One statement, as a large import writes: earlier payments move first payments (and new
    // customers) back in time; fully refunded ones count for revenue periods but not as purchases.
    await hub.sql.begin(async (tx) => {
      await tx`
        insert into canonical.payments (source_record_id, workspace_id, connection_id, external_id, customer_ref, amount, refunded_amount, currency, paid_at)
        select 900000000 + g, ${workspaceId}, ${sheet}, 'bulk-' || g, 'b' || (g % 7), 50 + g % 13, case when g % 5 = 0 then 50 + g % 13 else 0 end,
          (array['USD', 'EUR'])[1 + g % 2], timestamptz '2025-01-01 00:00:00+00' + (g * interval '37 minutes')
        from generate_series(1, 20050) g`;
      await enqueueDerive(tx as never, workspaceId);
    });
    await settled(workspaceId);
    // b0..b5 first paid in January 2025 now (b6 is no one's reference: it counts for the workspace only).
    expect(series(await metric(key, 'metric=new_customers&grain=month'))['2025-01-01']).toBe(6);
    const snapshot = async () => hub.sql`
      select metric, grain, period_start::text, dimension, dimension_value, currency, value, count, inputs
      from canonical.metric_rollups where workspace_id = ${workspaceId}
      order by metric, grain, period_start, dimension, dimension_value, currency`;
    const incremental = await snapshot();
    const rebuilt = await refreshRollups(hub.sql, workspaceId, { full: true });
    expect({ changed: rebuilt.rows_changed, removed: rebuilt.rows_removed }).toEqual({ changed: 0, removed: 0 });
    expect(await snapshot()).toEqual(incremental);
  });

  it('gives identical rows after random changes applied page by page as a rebuild from scratch (random data)', async () => {
    const { key, workspaceId } = await hub.workspace();
    await patchWorkspace(key, { time_zone: 'America/New_York', business_hours: { days: [1, 2, 3, 4, 5], start: '08:30', end: '17:00' } });
    const sheet = await people(key, workspaceId, 'Clients', Array.from({ length: 12 }, (_, n) => [`c${n}`, `Client Number${String.fromCharCode(65 + n)} Person${String.fromCharCode(80 - n)}`, `+1 212 555 ${String(1000 + n)}`]));
    let seed = 20261124;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)];
    const when = () => new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 400 * 86400_000));
    const customer = () => `c${Math.floor(random() * 14)}`; // some unresolved
    let merged: any;
    for (let page = 0; page < 6; page++) {
      await facts(workspaceId, sheet, 'payments', Array.from({ length: 15 }, () => ({ customer_ref: customer(), amount: Math.floor(random() * 10_000), refunded_amount: random() < 0.2 ? 500 : 0, currency: pick(['USD', 'EUR']), paid_at: when() })));
      await facts(workspaceId, sheet, 'invoices', Array.from({ length: 8 }, () => {
        const issued = when();
        const paid = random() < 0.6 ? new Date(issued.getTime() + random() * 30 * 86400_000) : null;
        return { customer_ref: customer(), status: paid ? 'paid' : pick(['open', 'void', 'draft']), amount_due: 5_000, amount_paid: paid ? 5_000 : 0, currency: pick(['USD', 'EUR']), issued_at: issued, due_at: new Date(issued.getTime() + 14 * 86400_000), paid_at: paid };
      }));
      await facts(workspaceId, sheet, 'deals', Array.from({ length: 6 }, () => {
        const created = when();
        const status = pick(['open', 'won', 'lost', 'completed']);
        return { customer_ref: customer(), owner: pick([null, 'ann', 'bob']), status, amount: 1_000, currency: 'USD', created_at: created, closed_at: status === 'open' ? null : new Date(created.getTime() + random() * 20 * 86400_000) };
      }));
      await facts(workspaceId, sheet, 'messages', Array.from({ length: 10 }, () => ({ thread_ref: `t${Math.floor(random() * 12)}`, direction: pick(['inbound', 'outbound']), sent_at: when() })));
      await facts(workspaceId, sheet, 'tasks', Array.from({ length: 5 }, () => {
        const due = when();
        return { owner: pick([null, 'ann']), status: pick(['open', 'completed', 'canceled']), customer_ref: customer(), due_at: due, completed_at: random() < 0.5 ? new Date(due.getTime() + (random() - 0.5) * 4 * 86400_000) : null };
      }));
      await facts(workspaceId, sheet, 'costs', [{ amount: 300, currency: 'USD', incurred_at: when() }]);
      await facts(workspaceId, sheet, 'satisfaction_responses', [{ customer_ref: customer(), score: Math.ceil(random() * 5), scale: 5, answered_at: when() }]);
      // Late changes: move, refund, tombstone some earlier payments.
      await hub.sql.begin(async (tx) => {
        const earlier = await tx<{ id: string }[]>`select source_record_id as id from canonical.payments where workspace_id = ${workspaceId} order by random() limit 4`;
        for (const [index, row] of earlier.entries()) {
          if (index === 0) await tx`update canonical.payments set paid_at = ${when()} where source_record_id = ${row.id}`;
          if (index === 1) await tx`update canonical.payments set refunded_amount = amount where source_record_id = ${row.id}`;
          if (index === 2) await tx`update canonical.payments set deleted_at = now() where source_record_id = ${row.id}`;
        }
        // A client's record tombstoned in its source (or back again): its facts name no customer now (or again).
        if (page % 2 === 1) await tx`update canonical.source_people set deleted_at = case when deleted_at is null then now() end where workspace_id = ${workspaceId} and external_id = ${`c${page}`}`;
        // A customer handed to another owner: revenue by owner moves with it.
        await tx`update canonical.customers set owner = ${pick(['ann', 'bob', null])} where id = (select id from canonical.customers where workspace_id = ${workspaceId} order by id offset ${page} limit 1)`;
        await enqueueDerive(tx as never, workspaceId);
      });
      await settled(workspaceId);
      // An admin merges two clients, and later splits one record out again.
      if (page === 0) {
        const ids = await hub.sql<{ id: string }[]>`
          select cl.customer_id as id from canonical.customer_links cl join canonical.source_people sp on sp.source_record_id = cl.source_record_id
          where sp.workspace_id = ${workspaceId} and sp.external_id in ('c8', 'c9')`;
        const response = await hub.request('POST', '/v1/customers/merge', { key, json: { ids: ids.map((row) => row.id) } });
        merged = await response.json();
        expect(response.status, JSON.stringify(merged)).toBe(200);
        await settled(workspaceId);
      }
      if (page === 3) {
        const absorbed = merged.records.find((record: any) => record.link.rule === 'admin')?.source_record_id;
        expect(absorbed, JSON.stringify(merged.records.map((record: any) => record.link))).toBeDefined();
        expect((await hub.request('POST', `/v1/customers/${merged.id}/split`, { key, json: { source_record_ids: [absorbed] } })).status).toBe(200);
        await settled(workspaceId);
      }
    }
    const snapshot = async () => hub.sql`
      select metric, grain, period_start::text, dimension, dimension_value, currency, value, count, inputs
      from canonical.metric_rollups where workspace_id = ${workspaceId}
      order by metric, grain, period_start, dimension, dimension_value, currency`;
    const incremental = await snapshot();
    expect(incremental.length).toBeGreaterThan(500);
    expect(new Set(incremental.map((row) => row.metric)).size).toBeGreaterThanOrEqual(20);

    const rebuilt = await refreshRollups(hub.sql, workspaceId, { full: true });
    expect({ changed: rebuilt.rows_changed, removed: rebuilt.rows_removed }).toEqual({ changed: 0, removed: 0 });
    // And from nothing: delete every row, rebuild, compare.
    await hub.sql`delete from canonical.metric_rollups where workspace_id = ${workspaceId}`;
    await refreshRollups(hub.sql, workspaceId, { full: true });
    expect(await snapshot()).toEqual(incremental);
  });
});
